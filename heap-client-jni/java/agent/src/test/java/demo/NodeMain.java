package demo;

/** Prints {@link Node#ROOT}'s description: run in two JVMs, the second one loads the graph the first shared. */
public final class NodeMain {
    private NodeMain() {}

    public static void main(String[] args) {
        System.out.println("node " + Node.ROOT.describe());
    }
}
