package demo;

/**
 * A small shared graph for the agent's multi-JVM tests: {@code ROOT} is a two-node cycle
 * (a.next = b, b.next = a), so a JVM that loads it can check that a heap object has one Java
 * instance ({@code ROOT.next.next == ROOT}) and that transient fields start at their defaults.
 */
public class Node {
    static Node ROOT = cycle();

    String name;
    Node next;
    transient int visits = 1;

    Node(String name) {
        this.name = name;
    }

    private static Node cycle() {
        Node a = new Node("a");
        Node b = new Node("b");
        a.next = b;
        b.next = a;
        return a;
    }

    synchronized String describe() {
        return name + "->" + next.name + " identity " + (next.next == this) + " visits " + visits;
    }
}
