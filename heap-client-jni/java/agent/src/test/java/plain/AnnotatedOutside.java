package plain;

import org.sovereign.annotations.OnLoad;
import org.sovereign.annotations.Root;

/** A fixture for the annotation tests: annotated, in a package the fixture config does not instrument. */
public class AnnotatedOutside {
    @Root
    static AnnotatedOutside CURRENT = new AnnotatedOutside();

    @OnLoad
    void reload() {}
}
