package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.heap.NonPortableObjectException;
import org.sovereign.heap.UnlockedSharedObjectException;

/**
 * Every way to change each shared collection class goes through its guard: without the owner's
 * lock the change throws and leaves the collection as it was; with it, the collection is marked
 * for the next commit. Covers the JDK paths that write around public methods (iterators, entries,
 * sublists, views). The one documented hole, ConcurrentHashMap's final keySet view, is shown to
 * change the size, which the commit checks. No cluster: the states have no heap objects.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
class SharedCollectionGuardTest {
    /** How a path must behave. */
    private enum Expect {
        /** Checked by the guard. */
        GUARDED,
        /** A read-only view here: UnsupportedOperationException, locked or not. */
        READ_ONLY,
        /** Not seen by the guard, but it changes the size, which every commit compares. */
        SIZE_ONLY
    }

    private record Case(String name, Supplier<Object> make, Consumer<Object> change, Expect expect) {}

    private final AgentRuntime runtime = new AgentRuntime(
            AgentConfig.parse("test.toml", "endpoints = \"127.0.0.1:1\"\ninstrument = [\"demo.**\"]\n", Map.of()),
            () -> {
                throw new AssertionError("no cluster in this test");
            });
    private final LockGroup group = new LockGroup("sovereign.object:1", null, 0);

    @AfterEach
    void releaseTheLock() {
        runtime.transaction().released(group.lockName);
        runtime.transaction().committed();
    }

    /** A shared copy of {@code plain}'s class holding its contents, guarded by {@link #group}. */
    private Object shared(Object plain) {
        Class<?> type = plain.getClass();
        Object copy = SharedContainers.newEmpty(type);
        if (plain instanceof Map) {
            ((Map) copy).putAll((Map) plain);
        } else {
            ((Collection) copy).addAll((Collection) plain);
        }
        SharedState state = new SharedState(null, null, "demo.Test.ROOT.items", null, true, group);
        state.container(new ContainerState(runtime, state, null, type, getClass().getClassLoader(), copy, 0));
        ((Shareable) copy).$sovereign$state(state);
        return copy;
    }

    private static Object contents(Object container) {
        return container instanceof Map ? new ArrayList<>(((Map<?, ?>) container).entrySet().stream()
                .map(entry -> entry.getKey() + "=" + entry.getValue()).toList()) : new ArrayList<>((Collection<?>) container);
    }

    private static int size(Object container) {
        return container instanceof Map ? ((Map<?, ?>) container).size() : ((Collection<?>) container).size();
    }

    private List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (Supplier<Object> list : List.<Supplier<Object>>of(() -> new ArrayList<>(List.of("a", "b", "c")),
                () -> new LinkedList<>(List.of("a", "b", "c")))) {
            String type = list.get().getClass().getSimpleName();
            Map<String, Consumer<List>> changes = new LinkedHashMap<>();
            changes.put("add", l -> l.add("x"));
            changes.put("add(index)", l -> l.add(1, "x"));
            changes.put("addAll", l -> l.addAll(List.of("x", "y")));
            changes.put("addAll(index)", l -> l.addAll(1, List.of("x")));
            changes.put("set", l -> l.set(0, "x"));
            changes.put("remove(index)", l -> l.remove(0));
            changes.put("remove(object)", l -> l.remove("b"));
            changes.put("removeAll", l -> l.removeAll(List.of("a")));
            changes.put("retainAll", l -> l.retainAll(List.of("a")));
            changes.put("removeIf", l -> l.removeIf("b"::equals));
            changes.put("replaceAll", l -> l.replaceAll(e -> e + "!"));
            changes.put("sort", l -> l.sort(Comparator.reverseOrder()));
            changes.put("clear", List::clear);
            changes.put("iterator().remove", l -> {
                Iterator i = l.iterator();
                i.next();
                i.remove();
            });
            changes.put("listIterator().set", l -> {
                ListIterator i = l.listIterator();
                i.next();
                i.set("x");
            });
            changes.put("listIterator().add", l -> l.listIterator(1).add("x"));
            changes.put("listIterator().remove", l -> {
                ListIterator i = l.listIterator(1);
                i.next();
                i.remove();
            });
            changes.put("subList.set", l -> l.subList(1, 3).set(0, "x"));
            changes.put("subList.add", l -> l.subList(1, 3).add("x"));
            changes.put("subList.clear", l -> l.subList(0, 2).clear());
            changes.put("subList.removeIf", l -> l.subList(0, 2).removeIf("a"::equals));
            changes.put("subList.replaceAll", l -> l.subList(0, 2).replaceAll(e -> e + "!"));
            changes.put("subList.sort", l -> l.subList(0, 3).sort(Comparator.reverseOrder()));
            changes.put("subList.removeAll", l -> l.subList(0, 3).removeAll(List.of("b")));
            if (type.equals("ArrayList")) {
                changes.put("removeFirst (Java 21)", l -> invoke(l, "removeFirst"));
                changes.put("removeLast (Java 21)", l -> invoke(l, "removeLast"));
            }
            for (Map.Entry<String, Consumer<List>> change : changes.entrySet()) {
                cases.add(new Case(type + "." + change.getKey(), list, c -> change.getValue().accept((List) c),
                        Expect.GUARDED));
            }
        }
        for (Supplier<Object> deque : List.<Supplier<Object>>of(() -> new ArrayDeque<>(List.of("a", "b", "c")),
                () -> new LinkedList<>(List.of("a", "b", "c")))) {
            String type = deque.get().getClass().getSimpleName();
            Map<String, Consumer<Deque>> changes = new LinkedHashMap<>();
            changes.put("addFirst", d -> d.addFirst("x"));
            changes.put("addLast", d -> d.addLast("x"));
            changes.put("offer", d -> d.offer("x"));
            changes.put("offerFirst", d -> d.offerFirst("x"));
            changes.put("offerLast", d -> d.offerLast("x"));
            changes.put("push", d -> d.push("x"));
            changes.put("pop", Deque::pop);
            changes.put("poll", Deque::poll);
            changes.put("pollFirst", Deque::pollFirst);
            changes.put("pollLast", Deque::pollLast);
            changes.put("remove()", Deque::remove);
            changes.put("removeFirst", Deque::removeFirst);
            changes.put("removeLast", Deque::removeLast);
            changes.put("removeFirstOccurrence", d -> d.removeFirstOccurrence("b"));
            changes.put("removeLastOccurrence", d -> d.removeLastOccurrence("b"));
            changes.put("descendingIterator().remove", d -> {
                Iterator i = d.descendingIterator();
                i.next();
                i.remove();
            });
            changes.put("iterator().remove", d -> {
                Iterator i = d.iterator();
                i.next();
                i.remove();
            });
            changes.put("add", d -> d.add("x"));
            changes.put("addAll", d -> d.addAll(List.of("x")));
            changes.put("remove(object)", d -> d.remove("a"));
            changes.put("removeAll", d -> d.removeAll(List.of("a")));
            changes.put("retainAll", d -> d.retainAll(List.of("a")));
            changes.put("removeIf", d -> d.removeIf("a"::equals));
            changes.put("clear", Deque::clear);
            for (Map.Entry<String, Consumer<Deque>> change : changes.entrySet()) {
                cases.add(new Case(type + "." + change.getKey(), deque, c -> change.getValue().accept((Deque) c),
                        Expect.GUARDED));
            }
        }
        for (Supplier<Object> map : List.<Supplier<Object>>of(() -> new HashMap<>(Map.of("a", 1, "b", 2, "c", 3)),
                () -> new LinkedHashMap<>(Map.of("a", 1, "b", 2, "c", 3)), () -> new TreeMap<>(Map.of("a", 1, "b", 2, "c", 3)),
                () -> new ConcurrentHashMap<>(Map.of("a", 1, "b", 2, "c", 3)))) {
            String type = map.get().getClass().getSimpleName();
            Map<String, Consumer<Map>> changes = new LinkedHashMap<>();
            changes.put("put", m -> m.put("x", 9));
            changes.put("putAll", m -> m.putAll(Map.of("x", 9)));
            changes.put("putIfAbsent", m -> m.putIfAbsent("x", 9));
            changes.put("remove", m -> m.remove("a"));
            changes.put("remove(key, value)", m -> m.remove("a", 1));
            changes.put("replace", m -> m.replace("a", 9));
            changes.put("replace(key, old, new)", m -> m.replace("a", 1, 9));
            changes.put("replaceAll", m -> m.replaceAll((k, v) -> 9));
            changes.put("computeIfAbsent", m -> m.computeIfAbsent("x", k -> 9));
            changes.put("computeIfPresent", m -> m.computeIfPresent("a", (k, v) -> 9));
            changes.put("compute", m -> m.compute("a", (k, v) -> 9));
            changes.put("merge", m -> m.merge("a", 9, (v, w) -> 9));
            changes.put("clear", Map::clear);
            changes.put("values().remove", m -> m.values().remove(1));
            changes.put("values().removeIf", m -> m.values().removeIf(v -> v.equals(1)));
            changes.put("values().iterator().remove", m -> {
                Iterator i = m.values().iterator();
                i.next();
                i.remove();
            });
            changes.put("values().clear", m -> m.values().clear());
            changes.put("entrySet().remove", m -> m.entrySet().remove(Map.entry("a", 1)));
            changes.put("entrySet().removeIf", m -> m.entrySet().removeIf(e -> true));
            changes.put("entrySet().iterator().remove", m -> {
                Iterator i = m.entrySet().iterator();
                i.next();
                i.remove();
            });
            changes.put("entry.setValue", m -> ((Map.Entry) m.entrySet().iterator().next()).setValue(9));
            changes.put("entrySet().forEach setValue", m -> m.entrySet().forEach(e -> ((Map.Entry) e).setValue(9)));
            changes.put("entrySet().stream() setValue", m -> m.entrySet().stream().forEach(e -> ((Map.Entry) e).setValue(9)));
            changes.put("entrySet().toArray() setValue", m -> ((Map.Entry) m.entrySet().toArray()[0]).setValue(9));
            changes.put("entrySet().clear", m -> m.entrySet().clear());
            for (Map.Entry<String, Consumer<Map>> change : changes.entrySet()) {
                cases.add(new Case(type + "." + change.getKey(), map, c -> change.getValue().accept((Map) c),
                        Expect.GUARDED));
            }
            Map<String, Consumer<Map>> keySet = new LinkedHashMap<>();
            keySet.put("keySet().remove", m -> m.keySet().remove("a"));
            keySet.put("keySet().iterator().remove", m -> {
                Iterator i = m.keySet().iterator();
                i.next();
                i.remove();
            });
            keySet.put("keySet().removeIf", m -> m.keySet().removeIf("a"::equals));
            keySet.put("keySet().retainAll", m -> m.keySet().retainAll(List.of("a")));
            keySet.put("keySet().clear", m -> m.keySet().clear());
            // ConcurrentHashMap's keySet() is its final KeySetView: remove and clear call the map's (guarded)
            // methods, its iterator, removeIf and retainAll remove around them.
            Set<String> unguarded = type.equals("ConcurrentHashMap")
                    ? Set.of("keySet().iterator().remove", "keySet().removeIf", "keySet().retainAll") : Set.of();
            for (Map.Entry<String, Consumer<Map>> change : keySet.entrySet()) {
                cases.add(new Case(type + "." + change.getKey(), map, c -> change.getValue().accept((Map) c),
                        unguarded.contains(change.getKey()) ? Expect.SIZE_ONLY : Expect.GUARDED));
            }
        }
        Supplier<Object> tree = () -> new TreeMap<>(Map.of("a", 1, "b", 2, "c", 3));
        cases.add(new Case("TreeMap.pollFirstEntry", tree, m -> ((TreeMap) m).pollFirstEntry(), Expect.GUARDED));
        cases.add(new Case("TreeMap.pollLastEntry", tree, m -> ((TreeMap) m).pollLastEntry(), Expect.GUARDED));
        cases.add(new Case("TreeMap.headMap().clear", tree, m -> ((TreeMap) m).headMap("b").clear(), Expect.READ_ONLY));
        cases.add(new Case("TreeMap.tailMap(inclusive).pollFirstEntry",
                tree, m -> ((TreeMap) m).tailMap("a", true).pollFirstEntry(), Expect.READ_ONLY));
        cases.add(new Case("TreeMap.descendingMap().put", tree, m -> ((TreeMap) m).descendingMap().put("x", 9),
                Expect.READ_ONLY));
        cases.add(new Case("TreeMap.navigableKeySet().pollFirst", tree, m -> ((TreeMap) m).navigableKeySet().pollFirst(),
                Expect.READ_ONLY));
        cases.add(new Case("TreeMap.subMap().remove", tree, m -> ((TreeMap) m).subMap("a", "c").remove("a"),
                Expect.READ_ONLY));
        for (Supplier<Object> set : List.<Supplier<Object>>of(() -> new HashSet<>(List.of("a", "b", "c")),
                () -> new LinkedHashSet<>(List.of("a", "b", "c")), () -> new TreeSet<>(List.of("a", "b", "c")))) {
            String type = set.get().getClass().getSimpleName();
            Map<String, Consumer<Set>> changes = new LinkedHashMap<>();
            changes.put("add", s -> s.add("x"));
            changes.put("addAll", s -> s.addAll(List.of("x")));
            changes.put("remove", s -> s.remove("a"));
            changes.put("removeAll", s -> s.removeAll(List.of("a")));
            changes.put("retainAll", s -> s.retainAll(List.of("a")));
            changes.put("removeIf", s -> s.removeIf("a"::equals));
            changes.put("clear", Set::clear);
            changes.put("iterator().remove", s -> {
                Iterator i = s.iterator();
                i.next();
                i.remove();
            });
            for (Map.Entry<String, Consumer<Set>> change : changes.entrySet()) {
                cases.add(new Case(type + "." + change.getKey(), set, c -> change.getValue().accept((Set) c),
                        Expect.GUARDED));
            }
        }
        Supplier<Object> treeSet = () -> new TreeSet<>(List.of("a", "b", "c"));
        cases.add(new Case("TreeSet.pollFirst", treeSet, s -> ((TreeSet) s).pollFirst(), Expect.GUARDED));
        cases.add(new Case("TreeSet.pollLast", treeSet, s -> ((TreeSet) s).pollLast(), Expect.GUARDED));
        cases.add(new Case("TreeSet.descendingIterator().remove", treeSet, s -> {
            Iterator i = ((TreeSet) s).descendingIterator();
            i.next();
            i.remove();
        }, Expect.GUARDED));
        cases.add(new Case("TreeSet.headSet().clear", treeSet, s -> ((TreeSet) s).headSet("b").clear(), Expect.READ_ONLY));
        cases.add(new Case("TreeSet.descendingSet().pollFirst", treeSet,
                s -> ((TreeSet) s).descendingSet().pollFirst(), Expect.READ_ONLY));
        return cases;
    }

    private static void invoke(Object target, String method) {
        try {
            target.getClass().getMethod(method).invoke(target);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw (RuntimeException) e.getCause();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void withoutTheOwnersLockEveryChangeThrowsAndChangesNothing() {
        int checked = 0;
        for (Case test : cases()) {
            Object container = shared(test.make().get());
            Object before = contents(container);
            switch (test.expect()) {
                case GUARDED -> {
                    String message = assertThrows(UnlockedSharedObjectException.class, () -> test.change().accept(container),
                            test.name()).getMessage();
                    assertTrue(message.contains("at demo.Test.ROOT.items"), test.name() + ": " + message);
                    assertEquals(before, contents(container), test.name() + " changed the collection before the guard");
                    checked++;
                }
                case READ_ONLY -> {
                    assertThrows(UnsupportedOperationException.class, () -> test.change().accept(container), test.name());
                    assertEquals(before, contents(container), test.name());
                }
                case SIZE_ONLY -> {
                    int size = size(container);
                    test.change().accept(container);
                    assertNotEquals(size, size(container), test.name() + ": the commit would not notice this change");
                }
                default -> throw new AssertionError(test.expect());
            }
        }
        assertTrue(checked > 150, "all paths were tried: " + checked);
    }

    @Test
    void withTheOwnersWriteLockEveryChangeMarksTheCollectionForTheCommit() {
        for (Case test : cases()) {
            if (test.expect() != Expect.GUARDED) {
                continue;
            }
            runtime.transaction().held(group.lockName, false, group);
            Object container = shared(test.make().get());
            test.change().accept(container);
            ContainerState state = ((Shareable) container).$sovereign$state().container();
            assertTrue(runtime.transaction().changed().contains(state), test.name() + " did not mark the collection");
            releaseTheLock();
        }
    }

    @Test
    void aReadLockIsNotEnoughAndTheMessageSaysSo() {
        runtime.transaction().held(group.lockName, true, group);
        List<String> list = (List<String>) shared(new ArrayList<>(List.of("a")));
        String message = assertThrows(UnlockedSharedObjectException.class, () -> list.add("b")).getMessage();
        assertTrue(message.contains("it holds only the read lock of a read-level [[autolock]]"), message);
        assertEquals(List.of("a"), list);
    }

    @Test
    void valuesThatCannotBeSharedAreRefusedAtTheCallNamingThePath() {
        runtime.transaction().held(group.lockName, false, group);
        List<Object> list = (List<Object>) shared(new ArrayList<>());
        String thread = assertThrows(NonPortableObjectException.class, () -> list.add(new Thread())).getMessage();
        assertTrue(thread.startsWith("cannot share a java.lang.Thread at demo.Test.ROOT.items[]: a Thread runs in this "
                + "JVM only"), thread);
        assertTrue(list.isEmpty(), "refused before the change");
        Map<Object, Object> map = (Map<Object, Object>) shared(new HashMap<>());
        String key = assertThrows(NonPortableObjectException.class, () -> map.put(new Object(), 1)).getMessage();
        assertTrue(key.startsWith("cannot use a java.lang.Object as a key (or set element) at demo.Test.ROOT.items["), key);
        assertTrue(key.contains("hash by identity, which differs between JVMs"), key);
        String value = assertThrows(NonPortableObjectException.class, () -> map.put("news", new StringBuilder()))
                .getMessage();
        assertTrue(value.startsWith("cannot share a java.lang.StringBuilder at demo.Test.ROOT.items[\"news\"]"), value);
        assertTrue(map.isEmpty());
        list.add(List.of(1).size());
        list.add(new ArrayList<>());
        list.add(new int[2]);
        assertEquals(3, list.size(), "scalars, supported collections and arrays are taken (shared at the commit)");
    }

    @Test
    void copiesAreNotShared() {
        runtime.transaction().held(group.lockName, false, group);
        ArrayList<String> list = (ArrayList<String>) shared(new ArrayList<>(List.of("a")));
        Object copy = list.clone();
        assertEquals(ArrayList.class, copy.getClass(), "clone() is a plain ArrayList");
        HashMap<String, Integer> map = (HashMap<String, Integer>) shared(new HashMap<>(Map.of("a", 1)));
        assertEquals(HashMap.class, map.clone().getClass());
        assertFalse(Shareable.stateOf(copy) != null);
    }
}
