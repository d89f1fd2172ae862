package plain;

/** A fixture for the annotation tests: a class outside `instrument` with no Sovereign annotation. */
public class NotAnnotated {
    static NotAnnotated CURRENT = new NotAnnotated();
}
