package org.sovereign.annotations;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Keeps an instance field local to each JVM, as {@code transient = ["pkg.Class.field"]} in the agent
 * config (or the {@code transient} modifier, which also stops Java serialization; this annotation
 * does not). In an object loaded from the heap the field starts at Java's default (0, false, null);
 * an {@link OnLoad} method can set it.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.FIELD)
public @interface Transient {}
