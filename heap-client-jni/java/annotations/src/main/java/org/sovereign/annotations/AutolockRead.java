package org.sovereign.annotations;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes the {@code synchronized} blocks of a method (and the method itself, if synchronized) take the
 * cluster read lock of a shared object instead of its write lock, as an {@code [[autolock]]} entry with
 * {@code methods = "pkg.Class.method"} and {@code level = "read"}: readers in many JVMs then hold it
 * at once. Writing a shared field or collection under a read lock throws, and so does taking the
 * write lock of an object while holding its read lock (a cluster lock cannot be upgraded).
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface AutolockRead {}
