package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.transform.RewritingLoader;

/**
 * The runtime side of annotations and on-load methods, on rewritten fixture classes: {@code @Transient}
 * fields are not shared; the on-load method is found from the config or {@code @OnLoad}, also for a
 * subclass and when inherited; a missing or wrong one makes the class unshareable, saying why;
 * running it fills transient state, and its exception becomes an OnLoadException naming the object
 * and the method.
 */
class OnLoadMethodTest {
    private static ClassMeta meta(String configText, String name) throws ClassNotFoundException {
        AgentConfig config = AgentConfig.parse("app.toml", "endpoints = \"x:1\"\ninstrument = [\"fixture.**\"]\n"
                + configText, Map.of());
        return new ClassMeta(new RewritingLoader(config).loadClass(name), config);
    }

    private static Set<String> names(ClassMeta meta) {
        Set<String> names = new HashSet<>();
        meta.fields.forEach(field -> names.add(field.name));
        return names;
    }

    private static Object read(Object instance, String field) throws ReflectiveOperationException {
        Field declared = instance.getClass().getDeclaredField(field);
        declared.setAccessible(true);
        return declared.get(instance);
    }

    private static SharedState state(ClassMeta meta) {
        return new SharedState(null, null, "fixture.Annotated.SHARED", meta, true,
                new LockGroup("sovereign.object:7", null, 0));
    }

    @Test
    void annotatedTransientFieldsAreNotSharedAndOnLoadIsFound() throws Exception {
        ClassMeta annotated = meta("", "fixture.Annotated");
        assertNull(annotated.problem);
        assertEquals(Set.of("title", "tags"), names(annotated), "upperTitle and onLoadRuns are @Transient");
        assertEquals("fixture.Annotated.rebuild()", OnLoadMethod.describe(annotated.onLoad.method));
        assertNull(meta("", "fixture.Account").onLoad, "no entry, no annotation");
    }

    @Test
    void aSubclassRunsItsNearestSuperclassesOnLoadAndAnEntryMayNameAnInheritedMethod() throws Exception {
        ClassMeta savings = meta("on-load = [\"fixture.Account.describe\"]\n", "fixture.Savings");
        assertNull(savings.problem);
        assertEquals("fixture.Account.describe()", OnLoadMethod.describe(savings.onLoad.method));
        ClassMeta inherited = meta("on-load = [\"fixture.Savings.peekBalance\"]\n", "fixture.Savings");
        assertEquals("fixture.Account.peekBalance()", OnLoadMethod.describe(inherited.onLoad.method));
    }

    @Test
    void aMissingOrWrongOnLoadMethodMakesTheClassUnshareable() throws Exception {
        ClassMeta missing = meta("on-load = [\"fixture.Account.afterLoad\"]\n", "fixture.Account");
        assertEquals("its on-load method fixture.Account.afterLoad() does not exist: fix it, or the on-load entry in the "
                + "agent config (or the @OnLoad annotation) that names it", missing.problem);
        ClassMeta parameters = meta("on-load = [\"fixture.Account.deposit\"]\n", "fixture.Account");
        assertEquals("its on-load method fixture.Account.deposit(long) takes parameters, and an on-load method takes none: "
                + "fix it, or the on-load entry in the agent config (or the @OnLoad annotation) that names it",
                parameters.problem);
        ClassMeta misplaced = meta("", "fixture.Misplaced");
        assertTrue(misplaced.problem.startsWith("its on-load method fixture.Misplaced.reload(int) takes parameters"),
                misplaced.problem);
        assertNull(misplaced.onLoad);
    }

    @Test
    void runningOnLoadRebuildsTransientState() throws Exception {
        ClassMeta annotated = meta("", "fixture.Annotated");
        Object loaded = annotated.allocate();
        assertNull(read(loaded, "upperTitle"), "a loaded object starts with transient fields at their defaults");
        annotated.fields.stream().filter(field -> field.name.equals("title")).findFirst().orElseThrow().set(loaded, "news");
        annotated.onLoad.run(loaded, state(annotated));
        assertEquals("NEWS", read(loaded, "upperTitle"));
        assertEquals(1, read(loaded, "onLoadRuns"));
    }

    @Test
    void anOnLoadThatThrowsBecomesAnOnLoadExceptionNamingObjectAndMethod() throws Exception {
        ClassMeta annotated = meta("", "fixture.Annotated");
        Object loaded = annotated.allocate(); // title is null: rebuild() throws NullPointerException
        OnLoadException failure = assertThrows(OnLoadException.class, () -> annotated.onLoad.run(loaded, state(annotated)));
        assertTrue(failure.getMessage().startsWith("the on-load method fixture.Annotated.rebuild() of "
                + "fixture.Annotated.SHARED (a fixture.Annotated, heap object -1) threw java.lang.NullPointerException"),
                failure.getMessage());
        assertTrue(failure.getMessage().endsWith("fix the method (it should only rebuild this JVM's transient state from "
                + "the object's fields)"), failure.getMessage());
        assertInstanceOf(NullPointerException.class, failure.getCause());
    }
}
