package demo.batch;

/**
 * A binary tree of 1,000 nodes for the batched-load test (plain Java): node i has children 2i and
 * 2i+1, so it is ten levels deep and its frontier is wide, the shape a load that fetches one
 * object (or one level) per round trip would need the most of.
 */
public class Tree {
    /** Nodes in the tree. */
    public static final int NODES = 1_000;

    static Tree ROOT;

    long value;
    Tree left;
    Tree right;

    /** A tree of {@link #NODES} nodes, valued 1 to NODES in breadth-first order. */
    static Tree of() {
        return node(1);
    }

    private static Tree node(int index) {
        Tree tree = new Tree();
        tree.value = index;
        if (2 * index <= NODES) {
            tree.left = node(2 * index);
        }
        if (2 * index + 1 <= NODES) {
            tree.right = node(2 * index + 1);
        }
        return tree;
    }

    /** Nodes below and including this one (reads every field of every node). */
    int count() {
        return 1 + (left == null ? 0 : left.count()) + (right == null ? 0 : right.count());
    }

    /** The sum of the values below and including this one. */
    long sum() {
        return value + (left == null ? 0 : left.sum()) + (right == null ? 0 : right.sum());
    }
}
