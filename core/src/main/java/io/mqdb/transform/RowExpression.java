package io.mqdb.transform;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One compiled expression of a channel's transform, made by {@link ExpressionCompiler} at start-up and evaluated on
 * each row. Immutable and thread-safe (the CEL program is).
 */
public final class RowExpression {
    private final String text;
    private final CelRuntime.Program program;
    private final Set<String> columnsRead;
    private final Optional<ColumnType> resultType;

    RowExpression(String text, CelRuntime.Program program, Set<String> columnsRead, Optional<ColumnType> resultType) {
        this.text = text;
        this.program = program;
        this.columnsRead = Set.copyOf(columnsRead);
        this.resultType = resultType;
    }

    /** @return the expression as written */
    public String text() {
        return text;
    }

    /** @return the source columns the expression reads; the row it is evaluated on must carry each of them */
    public Set<String> columnsRead() {
        return columnsRead;
    }

    /** @return the column type of the result, when the checked type has one (empty for {@code dyn}, durations) */
    public Optional<ColumnType> resultType() {
        return resultType;
    }

    /**
     * @param variables every column this expression reads, as CEL values ({@link CelValues#toCel})
     * @return the result as an mqdb value ({@link CelValues#fromCel})
     * @throws InvalidDataException when evaluation fails (a null where a value is needed, a division by zero, an
     *     overflow): the event is dead-lettered with this reason
     */
    Object evaluate(Map<String, Object> variables) {
        try {
            return CelValues.fromCel(program.eval(variables));
        } catch (CelEvaluationException e) {
            throw new InvalidDataException("expression \"" + text + "\": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new InvalidDataException("expression \"" + text + "\": " + e, e);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
