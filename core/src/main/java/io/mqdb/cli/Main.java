package io.mqdb.cli;

import io.mqdb.config.ConfigException;
import io.mqdb.spi.MqdbException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code mqdb} command line: {@code run}, {@code check-config}, {@code plugins}, {@code demo},
 * {@code uninstall}, {@code dead-letters}, {@code keygen}, {@code status}.
 *
 * <p>Exit codes: 0 success, 1 a runtime failure, 2 a usage or configuration error; {@code status}: 3 when a node is
 * offline or a lag is above {@code --max-lag}.
 */
@Command(name = "mqdb", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Keeps databases in sync over MQTT.",
        subcommands = {RunCommand.class, CheckConfigCommand.class, PluginsCommand.class, DemoCommand.class,
                UninstallCommand.class, DeadLettersCommand.class, KeygenCommand.class, StatusCommand.class,
                VerifyCommand.class, GetCommand.class, PutCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of a configuration or usage error. */
    static final int CONFIG_ERROR = 2;
    /** Exit code of a failure at run time. */
    static final int FAILURE = 1;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /**
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /**
     * Runs a command line without exiting the JVM; for tests and embedding.
     *
     * @param args the command line
     * @return the exit code
     */
    public static int execute(String... args) {
        return execute(new CommandLine(new Main()), args);
    }

    /**
     * Runs a command line without exiting the JVM, printing to the given writers instead of the standard streams:
     * for embedding, and for tests whose JVM also logs to standard out.
     *
     * @param out where the command's answer goes
     * @param err where its errors go
     * @param args the command line
     * @return the exit code
     */
    public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        return execute(cl, args);
    }

    private static int execute(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof ConfigException) {
                line.getErr().println(ex.getMessage());
                return CONFIG_ERROR;
            }
            if (ex instanceof MqdbException) {
                line.getErr().println("error: " + ex.getMessage());
                return FAILURE;
            }
            if (ex instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                return FAILURE;
            }
            throw ex;
        });
        cl.setExitCodeExceptionMapper(ex -> CONFIG_ERROR);
        return cl.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** Reads the version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"mqdb " + (v == null ? "development build" : v)};
        }
    }
}
