package org.sovereign.annotations;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a static field as a root: the same object graph in every JVM of the cluster, as
 * {@code roots = ["pkg.Class.FIELD"]} in the agent config. The heap root's name is the field's full
 * name ({@code demo.Counter.ROOT}). The first assignment anywhere in the cluster wins; later ones
 * take the existing graph. Only static fields of a class that {@code instrument} matches; on an
 * instance field the agent prints an error and ignores it.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.FIELD)
public @interface Root {}
