package io.mqdb.cli;

import io.mqdb.signing.Keys;
import io.mqdb.spi.MqdbException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb keygen --node NAME}: makes a node's Ed25519 key pair for {@code node.signing}. Writes the private key
 * (PKCS#8 PEM) to a new file readable by its owner only, and prints the trust-list line of the public key. Never
 * prints the private key; refuses to overwrite a file.
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = "Make a node's signing key pair (node.signing): the private key to a file, the public key "
                + "line for every node's trust list to standard output.")
final class KeygenCommand implements Callable<Integer> {
    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    @Option(names = "--node", required = true, description = "the node's name (node.name)")
    private String node;

    @Option(names = {"-o", "--out"}, description = "the private key file to write (default: <node>.key); it must "
            + "not exist")
    private Path out;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!NODE_NAME.matcher(node).matches()) {
            throw new ParameterException(spec.commandLine(), "invalid node name \"" + node
                    + "\": expected 1 to 64 of A-Z a-z 0-9 _ -");
        }
        Path file = out != null ? out : Path.of(node + ".key");
        KeyPair pair = Keys.generate();
        try {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file); // no POSIX permissions here: protect the file by other means
            }
            Files.writeString(file, Keys.pem(pair.getPrivate()), StandardCharsets.US_ASCII,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (FileAlreadyExistsException e) {
            throw new MqdbException(file + " exists; remove it or give another --out (a key is never overwritten)");
        } catch (IOException e) {
            throw new MqdbException("cannot write " + file + ": " + e.getMessage(), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.println("# private key of " + node + " written to " + file.toAbsolutePath()
                + " (owner only); in its config: node.signing.key-file: " + file.toAbsolutePath());
        w.println("# add this line to node.signing.trust of every node of the cluster (key id "
                + Keys.keyIdText(Keys.keyId(pair.getPublic())) + "):");
        w.println(node + ": " + Keys.text(pair.getPublic()));
        w.flush();
        return 0;
    }
}
