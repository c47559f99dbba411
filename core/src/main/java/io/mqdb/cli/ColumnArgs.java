package io.mqdb.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import picocli.CommandLine;

/**
 * The columns a tool is given on its command line ({@code mqdb get}'s key, {@code mqdb put}'s row): either one JSON
 * object, or {@code COLUMN=VALUE} arguments, where a value that reads as a JSON number, {@code true}, {@code false}
 * or {@code null} is sent as one and anything else as a string. Stateless.
 */
final class ColumnArgs {
    private ColumnArgs() {
    }

    /**
     * @param json the {@code --*-json} option's value, or null
     * @param jsonOption that option's name, for errors
     * @param parts the {@code COLUMN=VALUE} arguments
     * @param what what the columns are ("the key", "the row"), for errors
     * @param cl the command line, for usage errors
     * @return the columns as a JSON object
     * @throws CommandLine.ParameterException when both or neither are given, or one is malformed
     */
    static JsonObject parse(String json, String jsonOption, List<String> parts, String what, CommandLine cl) {
        if (json != null) {
            if (!parts.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "give " + what + " either with " + jsonOption
                        + " or as COLUMN=VALUE, not both");
            }
            try {
                return JsonParser.parseString(json).getAsJsonObject();
            } catch (RuntimeException e) {
                throw new CommandLine.ParameterException(cl, jsonOption + ": not a JSON object: " + json);
            }
        }
        if (parts.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "give " + what + ": COLUMN=VALUE ... or " + jsonOption);
        }
        JsonObject out = new JsonObject();
        for (String part : parts) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cl, "expected COLUMN=VALUE, got " + part);
            }
            String value = part.substring(eq + 1);
            if (value.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?") || value.equals("true")
                    || value.equals("false") || value.equals("null")) {
                out.add(part.substring(0, eq), JsonParser.parseString(value));
            } else {
                out.addProperty(part.substring(0, eq), value);
            }
        }
        return out;
    }
}
