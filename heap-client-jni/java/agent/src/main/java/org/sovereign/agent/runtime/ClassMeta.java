package org.sovereign.agent.runtime;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.heap.HeapException;

/**
 * The shared layout of one instrumented class, found once by reflection: its shared fields (not
 * static, not {@code transient}, not in the config's {@code transient} nor {@code @Transient}), stored
 * under their names, its on-load method ({@link OnLoadMethod}), and how to make an instance without
 * running a constructor (objects loaded from the heap get transient fields at their defaults, then
 * their on-load method runs: {@link OnLoads}). A class that cannot be shared carries the reason instead.
 */
final class ClassMeta {
    /** The heap entry naming an object's Java class (Java field names cannot start with $class by accident). */
    static final String CLASS_KEY = "$class";

    final Class<?> type;
    final List<FieldMeta> fields;
    /** Why instances cannot be shared (for {@link Portability}), or null. */
    final String problem;
    /** What runs after an instance is loaded from the heap, or null. */
    final OnLoadMethod onLoad;
    /** Where {@link #allocate} queues instances for their on-load method; null in unit tests. */
    private final OnLoads onLoads;
    /** Rewritten PUTFIELDs name a field as "owner.name"; the owner may be a subclass of the declaring class. */
    private final Map<String, Optional<FieldMeta>> byInstructionKey = new ConcurrentHashMap<>();
    private volatile Constructor<?> allocator;

    /** The layout of {@code type}, allocating without queueing on-load methods (for tests). */
    ClassMeta(Class<?> type, AgentConfig config) {
        this(type, config, null);
    }

    ClassMeta(Class<?> type, AgentConfig config, OnLoads onLoads) {
        this.type = type;
        this.onLoads = onLoads;
        List<FieldMeta> found = new ArrayList<>();
        String fieldsProblem = findFields(type, config, found);
        OnLoadMethod.Found onLoadFound = fieldsProblem == null ? OnLoadMethod.find(type, config) : OnLoadMethod.Found.NONE;
        this.problem = fieldsProblem != null ? fieldsProblem : onLoadFound.problem();
        this.onLoad = onLoadFound.method();
        this.fields = List.copyOf(found);
    }

    /** Collects the shared fields of {@code type} and its instrumented superclasses; returns the problem or null. */
    private static String findFields(Class<?> type, AgentConfig config, List<FieldMeta> found) {
        if (!Shareable.class.isAssignableFrom(type)) {
            return "class " + type.getName() + " is not instrumented: add it (or its package) to `instrument` in the "
                    + "agent config";
        }
        if (type.isEnum() || Enum.class.isAssignableFrom(type)) {
            return "an enum constant is shared by name in a field of its enum type, not as an object";
        }
        if (type.isRecord()) {
            return "records are not shared by this version of the agent; use a class with fields";
        }
        if (type.isHidden() || type.isSynthetic()) {
            return "a lambda or generated class cannot be shared yet";
        }
        Map<String, String> declaredBy = new HashMap<>();
        for (Class<?> k = type; k != null && k != Object.class; k = k.getSuperclass()) {
            boolean instrumented = Shareable.class.isAssignableFrom(k) && config.isInstrumented(k.getName());
            for (Field field : k.getDeclaredFields()) {
                if (!isShared(field, config)) {
                    continue;
                }
                if (!instrumented) {
                    return "its superclass " + k.getName() + " is not instrumented but declares field " + field.getName()
                            + ": add " + k.getName() + " to `instrument`, or mark the field transient";
                }
                if (ContainerKeys.isReserved(field.getName())) {
                    return "field " + k.getName() + "." + field.getName() + " has a name the agent uses in the heap "
                            + "(for the class or the lock's collections); rename it";
                }
                String other = declaredBy.putIfAbsent(field.getName(), k.getName());
                if (other != null) {
                    return "fields " + other + "." + field.getName() + " and " + k.getName() + "." + field.getName()
                            + " have the same name, and the heap stores fields by name; rename one";
                }
                found.add(new FieldMeta(field));
            }
        }
        return null;
    }

    private static boolean isShared(Field field, AgentConfig config) {
        int modifiers = field.getModifiers();
        return !Modifier.isStatic(modifiers) && !Modifier.isTransient(modifiers)
                && !field.getName().equals(Shareable.STATE_FIELD)
                && !config.isTransient(field.getDeclaringClass().getName(), field.getName());
    }

    /**
     * The shared field a rewritten PUTFIELD {@code "owner.name"} writes, or null when that field is
     * not shared (transient, static, or declared by a class outside the shared layout).
     */
    FieldMeta field(String instructionKey) {
        return byInstructionKey.computeIfAbsent(instructionKey, this::resolve).orElse(null);
    }

    private Optional<FieldMeta> resolve(String instructionKey) {
        int dot = instructionKey.lastIndexOf('.');
        String owner = instructionKey.substring(0, dot);
        String name = instructionKey.substring(dot + 1);
        Class<?> start = type;
        while (start != null && !start.getName().equals(owner)) {
            start = start.getSuperclass();
        }
        // As the JVM resolves a field reference: the owner, then its superclasses.
        for (Class<?> k = start; k != null; k = k.getSuperclass()) {
            for (Field declared : k.getDeclaredFields()) {
                if (declared.getName().equals(name) && !Modifier.isStatic(declared.getModifiers())) {
                    for (FieldMeta meta : fields) {
                        if (meta.field.equals(declared)) {
                            return Optional.of(meta);
                        }
                    }
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A new instance with every field at its default, to be filled from the heap; no constructor of
     * the class runs. Queued for its on-load method, if the class has one.
     */
    Object allocate() {
        try {
            Object instance = allocator().newInstance();
            if (onLoad != null && onLoads != null) {
                onLoads.loaded(instance);
            }
            return instance;
        } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
            throw new HeapException("cannot create an instance of " + type.getName() + " to load a shared object into ("
                    + e + "); please report it", e);
        }
    }

    private Constructor<?> allocator() {
        Constructor<?> constructor = allocator;
        if (constructor == null) {
            try {
                // The constructor deserialization uses: Object's, made for this class, so no code of the class
                // runs. sun.reflect.ReflectionFactory (module jdk.unsupported) is called by reflection only to
                // keep javac's "internal proprietary API" warning out of the build; it is the supported way.
                Class<?> factoryClass = Class.forName("sun.reflect.ReflectionFactory");
                Object factory = factoryClass.getMethod("getReflectionFactory").invoke(null);
                constructor = (Constructor<?>) factoryClass
                        .getMethod("newConstructorForSerialization", Class.class, Constructor.class)
                        .invoke(factory, type, Object.class.getDeclaredConstructor());
            } catch (ReflectiveOperationException e) {
                throw new HeapException("cannot make instances of " + type.getName() + " without a constructor (" + e
                        + "); this JVM lacks sun.reflect.ReflectionFactory (module jdk.unsupported): run a full JDK or JRE", e);
            }
            allocator = constructor;
        }
        return constructor;
    }
}
