package io.mqdb.transform;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelReference;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.mqdb.spi.ColumnType;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Compiles the expressions of one channel's transform once, at start-up: parses them and type-checks them against the
 * channel's declared source columns (each a variable, typed by {@link CelValues#variableType}), so that a syntax
 * error, an unknown column or a type error stops the node before it applies anything. Used on the config-reading
 * thread; one instance per channel.
 *
 * <p>CEL is non-Turing-complete and side-effect free: no loops but bounded macros over lists (capped here at
 * {@value #MAX_ITERATIONS} iterations), no calls into Java, no I/O. See {@code docs/dependencies.md} for why CEL.
 */
public final class ExpressionCompiler {
    /** What a macro such as {@code all} or {@code exists} may iterate at most, per evaluation. */
    static final int MAX_ITERATIONS = 1000;

    /** What an expression must produce. */
    public enum Result {
        /** A boolean: a filter. */
        BOOLEAN,
        /** A column value of a type mqdb has: a computed column. */
        COLUMN,
        /** A timestamp (when the row expires) or a duration (how long it lives from now): a time to live. */
        EXPIRY
    }

    private static final CelOptions OPTIONS = CelOptions.current().comprehensionMaxIterations(MAX_ITERATIONS)
            .build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS)
            .build();

    private final Map<String, ColumnType> columns;
    private final CelCompiler compiler;

    /**
     * @param columns the channel's source columns, in declaration order, each with its type or null for none (then
     *     {@code dyn})
     */
    public ExpressionCompiler(Map<String, ColumnType> columns) {
        this.columns = new LinkedHashMap<>(columns);
        CelCompilerBuilder b = CelCompilerFactory.standardCelCompilerBuilder().setOptions(OPTIONS);
        columns.forEach((name, type) -> b.addVar(name, CelValues.variableType(type)));
        this.compiler = b.build();
    }

    /**
     * @param text the expression
     * @param result what it must produce
     * @return the compiled expression
     * @throws ExpressionException with the first problem: syntax, unknown column (naming the declared ones), type
     */
    public RowExpression compile(String text, Result result) throws ExpressionException {
        if (text.isBlank()) {
            throw new ExpressionException(0, "empty; expected a CEL expression");
        }
        CelAbstractSyntaxTree ast;
        try {
            CelValidationResult checked = compiler.compile(text);
            ast = checked.getAst();
        } catch (CelValidationException e) {
            throw problem(e);
        } catch (RuntimeException e) {
            throw new ExpressionException(0, "cannot compile: " + e.getMessage());
        }
        CelType type = ast.getResultType();
        Optional<ColumnType> columnType = CelValues.columnType(type);
        CelKind kind = type instanceof NullableType n ? n.targetType().kind() : type.kind();
        boolean dyn = kind == CelKind.DYN;
        switch (result) {
            case BOOLEAN -> {
                if (kind != CelKind.BOOL && !dyn) {
                    throw new ExpressionException(0, "a filter must give true or false, this gives "
                            + type.name());
                }
            }
            case COLUMN -> {
                if (columnType.isEmpty()) {
                    throw new ExpressionException(0, "a computed column must give a string, int, double, bool, "
                            + "bytes or timestamp, this gives " + type.name()
                            + (dyn ? " (a column declared without a type: convert it, e.g. string(x), int(x))" : ""));
                }
            }
            case EXPIRY -> {
                if (kind != CelKind.TIMESTAMP && kind != CelKind.DURATION && !dyn) {
                    throw new ExpressionException(0, "a ttl expression must give a timestamp (when the row expires) "
                            + "or a duration (how long it lives), this gives " + type.name());
                }
            }
            default -> throw new IllegalStateException(result.name());
        }
        Set<String> read = new LinkedHashSet<>();
        for (CelReference r : ast.getReferenceMap().values()) {
            if (columns.containsKey(r.name())) {
                read.add(r.name());
            }
        }
        try {
            return new RowExpression(text, RUNTIME.createProgram(ast), read, columnType);
        } catch (CelEvaluationException e) {
            throw new ExpressionException(0, e.getMessage());
        }
    }

    private ExpressionException problem(CelValidationException e) {
        CelIssue first = e.getErrors().isEmpty() ? null : e.getErrors().get(0);
        if (first == null) {
            return new ExpressionException(0, e.getMessage());
        }
        String message = first.getMessage();
        if (message.contains("undeclared reference")) {
            message = message.replace(" (in container '')", "") + "; the channel's transform.source declares "
                    + String.join(", ", columns.keySet());
        }
        int line = first.getSourceLocation().getLine();
        int column = first.getSourceLocation().getColumn();
        String at = line > 1 ? "line " + line + ", column " + (column + 1) : "column " + (column + 1);
        return new ExpressionException(line - 1, at + ": " + message);
    }
}
