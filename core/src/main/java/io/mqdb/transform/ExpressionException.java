package io.mqdb.transform;

/**
 * An expression that cannot be compiled: a syntax error, an unknown column, a type error, or a result of the wrong
 * type. Thrown by {@link ExpressionCompiler} on the config-reading thread; the config reader turns it into a problem
 * at the expression's file, line and key.
 */
public final class ExpressionException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int lineOffset;

    /**
     * @param lineOffset the line of the problem within the expression, from 0 (expressions are mostly one line)
     * @param message what is wrong, fit for a user
     */
    public ExpressionException(int lineOffset, String message) {
        super(message);
        this.lineOffset = Math.max(0, lineOffset);
    }

    /** @return the line of the problem within the expression, from 0 */
    public int lineOffset() {
        return lineOffset;
    }
}
