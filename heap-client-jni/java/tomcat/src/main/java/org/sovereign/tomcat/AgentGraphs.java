package org.sovereign.tomcat;

import org.sovereign.agent.runtime.LockedGraphs;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * Session attribute values as shared graphs, when the Sovereign agent runs in this Tomcat's JVM
 * ({@code -javaagent:sovereign-agent.jar=config=...}): an instrumented object or a java.util
 * collection set as an attribute is stored as a graph owned by its session's heap object, and a
 * request changes it in place (fields, {@code add}, {@code put}) with no {@code setAttribute}: the
 * changes commit with the request, under the session's lock. Loaded only after {@link #detect}
 * found the agent's classes, so a Tomcat without the agent never links to them.
 */
final class AgentGraphs {
    /** The agent's facade class, looked up by name before anything here links to it. */
    static final String FACADE_CLASS = "org.sovereign.agent.runtime.LockedGraphs";

    private final LockedGraphs graphs;

    private AgentGraphs(LockedGraphs graphs) {
        this.graphs = graphs;
    }

    /** The agent of this JVM, or null when none runs (attribute values are then stored as bytes). */
    static AgentGraphs detect() {
        try {
            Class.forName(FACADE_CLASS, false, AgentGraphs.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
        LockedGraphs current = LockedGraphs.current();
        return current == null ? null : new AgentGraphs(current);
    }

    /** The agent's heap client: the manager's locks and commits go through it, so one commit carries both. */
    HeapClient client() {
        return graphs.client();
    }

    /** Whether {@code value} of attribute {@code name} is stored as a graph (else as bytes, if Serializable). */
    boolean isGraph(String name, Object value, ClassLoader loader) {
        return graphs.isShared(value) || graphs.canShare(value, "session attribute '" + name + "'", loader);
    }

    /** After the request took the session's lock: its graphs may be written (write) and are current. */
    void entered(HeapObject session, boolean write) {
        graphs.entered(session, write);
    }

    /** Shares {@code value} into {@code session}'s graph; returns what the attribute holds now and its heap object. */
    LockedGraphs.Shared share(String name, Object value, HeapObject session, ClassLoader loader) {
        return graphs.share(value, session, "session attribute '" + name + "'", loader);
    }

    /** The Java value of attribute {@code name}'s graph. */
    Object load(String name, HeapObject reference, ClassLoader loader) {
        return graphs.load(reference, loader, "session attribute '" + name + "'");
    }

    /** Before the request's release: the graphs' changes go into its commit. */
    void beforeRelease() {
        graphs.beforeRelease();
    }

    /** After the release of {@code session}'s lock: committed, or the Java side takes the heap's values back. */
    void released(HeapObject session, boolean committed) {
        graphs.released(session, committed);
    }
}
