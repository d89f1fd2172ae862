package demo;

/** Keys and values of {@link Catalog}'s collections: enum constants are shared by name. */
public enum Color { RED, GREEN, BLUE }
