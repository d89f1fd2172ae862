package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.transform.RewritingLoader;

/** The shared layout of rewritten fixture classes: which fields, how PUTFIELD keys resolve, which classes cannot be shared. */
class ClassMetaTest {
    private final AgentConfig config = RewritingLoader.fixtureConfig();
    private final RewritingLoader loader = new RewritingLoader(config);

    private ClassMeta meta(String name) throws ClassNotFoundException {
        return new ClassMeta(loader.loadClass(name), config);
    }

    private static Set<String> names(ClassMeta meta) {
        Set<String> names = new HashSet<>();
        meta.fields.forEach(field -> names.add(field.name));
        return names;
    }

    @Test
    void sharedFieldsLeaveOutTransientAndStaticOnes() throws Exception {
        ClassMeta account = meta("fixture.Account");
        assertNull(account.problem);
        assertEquals(Set.of("owner", "balance", "deposits", "branch", "flags", "grade", "ratio", "rate", "open", "boxed",
                "status", "partner", "loose"), names(account),
                "not note (transient), cache (transient in the config), ROOT/CONFIG (static) or the state field");
    }

    @Test
    void subclassesShareTheirInstrumentedSuperclassesFields() throws Exception {
        Set<String> expected = new HashSet<>(names(meta("fixture.Account")));
        expected.add("interest");
        assertEquals(expected, names(meta("fixture.Savings")));
    }

    @Test
    void writeKeysResolveAsTheJvmResolvesFields() throws Exception {
        ClassMeta savings = meta("fixture.Savings");
        FieldMeta balance = savings.field("fixture.Savings.balance");
        assertEquals("fixture.Account.balance", balance.fullName(), "an inherited field written through the subclass");
        assertSame(balance, savings.field("fixture.Account.balance"));
        assertEquals("fixture.Savings.interest", savings.field("fixture.Savings.interest").fullName());
        assertNull(savings.field("fixture.Account.note"), "transient: a plain local write");
        assertNull(savings.field("fixture.Account.cache"), "transient in the config");
    }

    @Test
    void classesThatCannotBeSharedSayWhy() throws Exception {
        assertTrue(meta("fixture.Account$Status").problem.contains("enum constant is shared by name"));
        assertTrue(new ClassMeta(fixture.Account.class, config).problem.contains("is not instrumented"),
                "the class as javac wrote it, not rewritten");
        assertTrue(new ClassMeta(StringBuilder.class, config).problem.contains("is not instrumented"));
    }

    @Test
    void loadedInstancesRunNoConstructorOrInitializer() throws Exception {
        ClassMeta account = meta("fixture.Account");
        Object instance = account.allocate();
        assertSame(account.type, instance.getClass());
        assertEquals("null 0 '\0' null", read(instance, "note") + " " + read(instance, "balance") + " '"
                + read(instance, "grade") + "' " + read(instance, "owner"),
                "every field at its default, though the class initializes note, grade and owner");
        assertNull(Shareable.stateOf(instance));
    }

    private static Object read(Object instance, String field) throws ReflectiveOperationException {
        Field declared = instance.getClass().getDeclaredField(field);
        declared.setAccessible(true);
        return declared.get(instance);
    }
}
