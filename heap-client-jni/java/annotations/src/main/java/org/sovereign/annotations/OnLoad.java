package org.sovereign.annotations;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the method that runs after an object of this class is loaded from the heap into a JVM, as
 * {@code on-load = ["pkg.Class.method"]} in the agent config: its shared fields hold the heap's
 * values, its transient fields Java's defaults, and the method rebuilds what is local (caches,
 * indexes). It must be an instance method without parameters (any return type; the value is
 * ignored), one per class; objects made by a constructor in this JVM do not run it. If it throws,
 * the access that loaded the object throws an {@code org.sovereign.heap.HeapException} naming the
 * object and the method.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface OnLoad {}
