package demo;

/**
 * A root with an on-load method named in the tests' config ({@code on-load = ["demo.Brittle.check"]},
 * no annotation) that always throws: the JVM that loads it gets the failure from the read that
 * loaded it, and the object stays loaded. Its root is assigned in main, not in a static initializer,
 * so the failure does not break the class's initialization.
 */
public class Brittle {
    static Brittle ROOT;

    String state = "fragile";
    transient int checks;

    void check() {
        checks++;
        throw new IllegalStateException("the on-load check refuses a " + state + " object");
    }

    String describe() {
        return "state " + state + ", checks " + checks;
    }
}
