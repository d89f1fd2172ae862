/**
 * Annotations that stand in for entries of the Sovereign agent's config file ({@code app.toml}), so
 * that what is shared can be said next to the code. Each one is the same as a config entry, and the
 * two combine (an annotation adds to the config, it never removes from it):
 * <ul>
 *   <li>{@link org.sovereign.annotations.Root} on a static field: {@code roots = ["pkg.Class.FIELD"]};
 *   <li>{@link org.sovereign.annotations.Transient} on a field: {@code transient = ["pkg.Class.field"]};
 *   <li>{@link org.sovereign.annotations.AutolockRead} on a method: an {@code [[autolock]]} entry with
 *       {@code methods = "pkg.Class.method"} and {@code level = "read"};
 *   <li>{@link org.sovereign.annotations.OnLoad} on a method: {@code on-load = ["pkg.Class.method"]}.
 * </ul>
 * They act only in classes the config's {@code instrument} matches; the agent prints one line for
 * a class outside it that carries one. Their retention is {@code CLASS}: the agent reads them from
 * the class file, so the application needs this jar to compile, not to run (with or without the
 * agent).
 */
package org.sovereign.annotations;
