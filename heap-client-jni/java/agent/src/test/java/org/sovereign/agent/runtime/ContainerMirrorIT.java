package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.Security;

/**
 * The heap side of every container kind against a real cluster, with two clients standing for two
 * JVMs: in each round one of them takes the lock, catches up with the other's commits, changes every
 * container at random (seeded; the seed is printed), records the differences and commits; then the
 * other takes the lock, catches up, and must hold exactly the same contents, in the same order
 * where the kind has one. Counts how often catching up read only the changes, so a fallback that
 * always reads everything cannot pass unnoticed.
 */
@Timeout(300)
class ContainerMirrorIT {
    static final int ROUNDS = 30;
    static final String LOCK = "test:container-mirrors";

    /** Scalars only: references are the multi-JVM tests' business. */
    static final ElementIo SCALARS = new ElementIo() {
        @Override
        public Object adopt(Object value, String path) {
            assertTrue(ElementCodec.isScalar(value), path);
            return value;
        }

        @Override
        public Object encode(Object value, String path) {
            return ElementCodec.encode(value, path, (object, at) -> {
                throw new AssertionError(at);
            });
        }

        @Override
        public Object decode(Object stored, String path) {
            return ElementCodec.decode(stored, getClass().getClassLoader(), path, (reference, at) -> {
                throw new AssertionError(at);
            });
        }

        @Override
        public Object key(String text, String path) {
            return ElementCodec.key(text, getClass().getClassLoader(), path);
        }
    };

    enum Color { RED, GREEN }

    /** One JVM's copy of one container. */
    private static final class Copy {
        final Object container;
        final Mirror mirror;
        final HeapObject holder;
        long version;
        int catchUps;
        int reloads;

        Copy(Object container, Mirror mirror, HeapObject holder) {
            this.container = container;
            this.mirror = mirror;
            this.holder = holder;
        }

        void refresh(String path) {
            long heapVersion = holder.getLong(ContainerKeys.VERSION);
            if (heapVersion == version) {
                return;
            }
            if (mirror.catchUp(container, SCALARS, path, version)) {
                catchUps++;
            } else {
                mirror.reload(container, SCALARS, path);
                reloads++;
            }
            version = heapVersion;
        }

        void flush(String path) {
            if (mirror.flush(container, SCALARS, path, version + 1)) {
                version++;
                holder.set(ContainerKeys.VERSION, version);
            }
        }
    }

    private static final List<Supplier<Object>> KINDS = List.of(ArrayList::new, LinkedList::new, ArrayDeque::new,
            HashMap::new, LinkedHashMap::new, TreeMap::new, ConcurrentHashMap::new, HashSet::new, LinkedHashSet::new,
            TreeSet::new, () -> new int[16], () -> new String[12]);

    @Test
    void twoClientsChangingEveryKindAtRandomAlwaysAgree() throws Exception {
        long seed = System.nanoTime();
        System.out.println("[mirrors] seed " + seed + " (a failure replays with this seed in `new Random(...)`)");
        Random random = new Random(seed);
        try (HeapNodes cluster = HeapNodes.start();
                HeapClient a = HeapClient.connect(cluster.endpoints(), Security.plaintext());
                HeapClient b = HeapClient.connect(cluster.endpoints(), Security.plaintext())) {
            List<Copy> copiesA = new ArrayList<>();
            List<Copy> copiesB = new ArrayList<>();
            Lock lockA = a.lock(LOCK);
            lockA.lock();
            try {
                HeapObject root = a.root("test:mirrors");
                for (int k = 0; k < KINDS.size(); k++) {
                    Object container = KINDS.get(k).get();
                    HeapObject holder = a.newObject(container.getClass().getName());
                    Mirror mirror = Mirror.of(container.getClass(), holder);
                    change(container, random);
                    mirror.create(a, container, SCALARS, path(k));
                    root.set("c" + k, holder);
                    copiesA.add(new Copy(container, mirror, holder));
                }
            } finally {
                lockA.unlock();
            }
            Lock lockB = b.lock(LOCK);
            lockB.lock();
            try {
                HeapObject root = b.root("test:mirrors");
                for (int k = 0; k < KINDS.size(); k++) {
                    Object container = KINDS.get(k).get();
                    HeapObject holder = root.getObject("c" + k);
                    Copy copy = new Copy(container, Mirror.of(container.getClass(), holder), holder);
                    copy.version = holder.getLong(ContainerKeys.VERSION);
                    copy.mirror.reload(container, SCALARS, path(k));
                    copiesB.add(copy);
                    assertSame(copiesA.get(k).container, container, "round 0, " + path(k));
                }
            } finally {
                lockB.unlock();
            }
            for (int round = 1; round <= ROUNDS; round++) {
                boolean aWrites = random.nextBoolean();
                List<Copy> writer = aWrites ? copiesA : copiesB;
                List<Copy> reader = aWrites ? copiesB : copiesA;
                Lock lock = aWrites ? lockA : lockB;
                lock.lock();
                try {
                    for (int k = 0; k < KINDS.size(); k++) {
                        writer.get(k).refresh(path(k));
                        int changes = 1 + random.nextInt(4);
                        for (int c = 0; c < changes; c++) {
                            change(writer.get(k).container, random);
                        }
                        writer.get(k).flush(path(k));
                    }
                } finally {
                    lock.unlock();
                }
                Lock other = aWrites ? lockB : lockA;
                other.lock();
                try {
                    for (int k = 0; k < KINDS.size(); k++) {
                        reader.get(k).refresh(path(k));
                        assertSame(writer.get(k).container, reader.get(k).container, "round " + round + ", " + path(k));
                    }
                } finally {
                    other.unlock();
                }
            }
            int catchUps = 0;
            int reloads = 0;
            for (List<Copy> copies : List.of(copiesA, copiesB)) {
                for (Copy copy : copies) {
                    catchUps += copy.catchUps;
                    reloads += copy.reloads;
                }
            }
            System.out.printf("[mirrors] %d rounds x %d kinds: %d refreshes read only the changes, %d read everything%n",
                    ROUNDS, KINDS.size(), catchUps, reloads);
            assertTrue(catchUps > reloads, "most refreshes read only the changes: " + catchUps + " vs " + reloads);
        }
    }

    private static String path(int kind) {
        return "test.mirrors[" + kind + "]";
    }

    /** Same contents, and the same order where the kind has one (lists, deques, linked and sorted kinds, arrays). */
    private static void assertSame(Object expected, Object actual, String what) {
        if (expected instanceof int[]) {
            assertArrayEquals((int[]) expected, (int[]) actual, what);
        } else if (expected instanceof Object[]) {
            assertArrayEquals((Object[]) expected, (Object[]) actual, what);
        } else if (expected instanceof HashMap && !(expected instanceof LinkedHashMap)
                || expected instanceof ConcurrentHashMap || expected instanceof HashSet && !(expected instanceof LinkedHashSet)) {
            assertEquals(expected, actual, what);
        } else if (expected instanceof Map) {
            assertEquals(new ArrayList<>(((Map<?, ?>) expected).entrySet()), new ArrayList<>(((Map<?, ?>) actual).entrySet()),
                    what);
        } else {
            assertEquals(new ArrayList<>((Collection<?>) expected), new ArrayList<>((Collection<?>) actual), what);
        }
    }

    /** Keys of every scalar kind, few enough that changes hit existing keys. */
    private static Object key(Random random) {
        switch (random.nextInt(4)) {
            case 0:
                return "k" + random.nextInt(6);
            case 1:
                return random.nextInt(6);
            case 2:
                return (long) random.nextInt(6);
            default:
                return Color.values()[random.nextInt(2)];
        }
    }

    /** A string key (sorted kinds need mutually comparable keys). */
    private static Object sortedKey(Random random) {
        return "k" + random.nextInt(8);
    }

    private static Object value(Random random) {
        switch (random.nextInt(5)) {
            case 0:
                return "#v" + random.nextInt(100);
            case 1:
                return random.nextInt(100);
            case 2:
                return random.nextDouble();
            case 3:
                return Color.values()[random.nextInt(2)];
            default:
                return (long) random.nextInt(100);
        }
    }

    @SuppressWarnings("unchecked")
    private static void change(Object container, Random random) {
        if (container instanceof int[]) {
            int[] numbers = (int[]) container;
            numbers[random.nextInt(numbers.length)] = random.nextInt();
        } else if (container instanceof String[]) {
            String[] names = (String[]) container;
            names[random.nextInt(names.length)] = random.nextInt(5) == 0 ? null : "n" + random.nextInt(50);
        } else if (container instanceof Deque && !(container instanceof List)) {
            Deque<Object> deque = (Deque<Object>) container;
            int what = random.nextInt(10);
            if (what < 5) {
                deque.addLast(value(random));
            } else if (what < 8) {
                deque.pollFirst();
            } else if (what < 9) {
                deque.addFirst(value(random));
            } else {
                deque.pollLast();
            }
        } else if (container instanceof List) {
            List<Object> list = (List<Object>) container;
            int what = random.nextInt(12);
            if (what < 6 || list.isEmpty()) {
                list.add(random.nextInt(8) == 0 ? null : value(random));
            } else if (what < 8) {
                list.remove(0);
            } else if (what < 9) {
                list.add(random.nextInt(list.size() + 1), value(random));
            } else if (what < 10) {
                list.remove(random.nextInt(list.size()));
            } else if (what < 11) {
                list.set(random.nextInt(list.size()), value(random));
            } else if (random.nextInt(4) == 0) {
                list.clear();
            }
        } else if (container instanceof Map) {
            Map<Object, Object> map = (Map<Object, Object>) container;
            boolean sorted = map instanceof TreeMap;
            Object key = sorted ? sortedKey(random) : key(random);
            int what = random.nextInt(10);
            if (what < 5) {
                boolean nullable = !(map instanceof ConcurrentHashMap);
                map.put(key, nullable && random.nextInt(8) == 0 ? null : value(random));
            } else if (what < 8) {
                map.remove(key);
            } else {
                Object value = map.remove(key);
                map.put(key, value != null ? value : value(random)); // inserted again: last in a LinkedHashMap
            }
        } else {
            Set<Object> set = (Set<Object>) container;
            Object key = set instanceof TreeSet ? sortedKey(random) : key(random);
            int what = random.nextInt(10);
            if (what < 5) {
                set.add(key);
            } else if (what < 8) {
                set.remove(key);
            } else {
                set.remove(key);
                set.add(key);
            }
        }
    }
}
