package org.sovereign.agent.collections;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.sovereign.agent.runtime.Shareable;

/**
 * The java.util classes the agent shares, each with the subclass a shared one becomes. Only these
 * exact classes: a subclass of them (an application's, an anonymous one overriding
 * removeEldestEntry) may change behaviour the heap cannot know of, and the immutable or wrapped
 * views (List.of, Collections.unmodifiableList, Arrays.asList, synchronizedMap) are other classes.
 */
public final class SharedContainers {
    /** JDK class -> how to make an empty instance of its shared subclass. */
    private static final Map<Class<?>, Supplier<Shareable>> SUBCLASSES = Map.of(
            ArrayList.class, SharedArrayList::new,
            LinkedList.class, SharedLinkedList::new,
            ArrayDeque.class, SharedArrayDeque::new,
            HashMap.class, SharedHashMap::new,
            LinkedHashMap.class, SharedLinkedHashMap::new,
            TreeMap.class, SharedTreeMap::new,
            ConcurrentHashMap.class, SharedConcurrentHashMap::new,
            HashSet.class, SharedHashSet::new,
            LinkedHashSet.class, SharedLinkedHashSet::new,
            TreeSet.class, SharedTreeSet::new);
    /** Shared subclass -> its JDK class. */
    private static final Map<Class<?>, Class<?>> JDK_CLASSES = Map.of(
            SharedArrayList.class, ArrayList.class,
            SharedLinkedList.class, LinkedList.class,
            SharedArrayDeque.class, ArrayDeque.class,
            SharedHashMap.class, HashMap.class,
            SharedLinkedHashMap.class, LinkedHashMap.class,
            SharedTreeMap.class, TreeMap.class,
            SharedConcurrentHashMap.class, ConcurrentHashMap.class,
            SharedHashSet.class, HashSet.class,
            SharedLinkedHashSet.class, LinkedHashSet.class,
            SharedTreeSet.class, TreeSet.class);
    /** The supported classes' simple names, for error messages. */
    public static final String SUPPORTED = String.join(", ", List.of("ArrayList", "LinkedList", "ArrayDeque", "HashMap",
            "LinkedHashMap", "TreeMap", "ConcurrentHashMap", "HashSet", "LinkedHashSet", "TreeSet"));

    private SharedContainers() {}

    /** Whether instances of exactly {@code type} can be shared (as a copy of its shared subclass). */
    public static boolean isSupported(Class<?> type) {
        return SUBCLASSES.containsKey(type);
    }

    /** Whether {@code type} is one of the shared subclasses. */
    public static boolean isShared(Class<?> type) {
        return JDK_CLASSES.containsKey(type);
    }

    /** The JDK class behind {@code type}: itself for a supported JDK class, the superclass for a shared subclass; else null. */
    public static Class<?> jdkClass(Class<?> type) {
        return SUBCLASSES.containsKey(type) ? type : JDK_CLASSES.get(type);
    }

    /** An empty, unshared instance of the shared subclass of {@code jdkClass} (a supported class). */
    public static Shareable newEmpty(Class<?> jdkClass) {
        Supplier<Shareable> constructor = SUBCLASSES.get(jdkClass);
        if (constructor == null) {
            throw new IllegalArgumentException(jdkClass.getName() + " is not a supported collection class");
        }
        return constructor.get();
    }
}
