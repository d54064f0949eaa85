/*
 * DynamoDB Local, listening on 127.0.0.1 only.
 *
 * DynamoDB Local's jar has no option for the listen address: ServerRunner builds its Jetty server
 * with `new Server(port)`, which binds every interface, so anyone who can reach this machine could
 * read and write the local table. This program builds the server as ServerRunner.main does (same
 * command line), moves Jetty's connectors to 127.0.0.1 before they open, and starts it.
 *
 * scripts/dynamodb-local.ts compiles it once (with the JDK's compiler) into .local/java/loopback-<hash>/,
 * keyed by this file, `java -version` and the jar, and runs it from there:
 *   java -cp ".local/java/loopback-<hash>:<lib>/DynamoDBLocal.jar:<lib>/DynamoDBLocal_lib/*" \
 *     -Djava.library.path=<lib>/DynamoDBLocal_lib LoopbackDynamoDBLocal -port 8000 -sharedDb -inMemory
 * When it cannot compile it, it runs this file through Java's source launcher (which compiles it
 * in memory on every start, about 3 s): the same command with local/dynamodb/LoopbackDynamoDBLocal.java
 * in place of the cache folder and the class name. Both need a JDK.
 *
 * Telemetry: ServerRunner.createServer (called by createServerFromCommandLineArgs) already calls
 * Telemetry.configureTelemetry(…, TelemetryUtil.isTelemetryEnabled(-disableTelemetry)); that call
 * only creates the Telemetry object when telemetry is enabled, and DDB_LOCAL_TELEMETRY=0 (which
 * the script sets) disables it, so Telemetry.getTelemetry() stays empty and
 * DynamoDBProxyServer.start() emits nothing. ServerRunner.main's second configureTelemetry call,
 * which only refines the setup type it would report, is skipped here.
 *
 * Any failure is one line on stderr and exit status 1: the script shows DynamoDB Local's output
 * when it dies, and retries on another port when that line says the address is in use.
 */

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) {
        Server server;
        try {
            DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
            server = jettyServer(proxy);
            int bound = 0;
            for (Connector connector : server.getConnectors()) {
                if (connector instanceof ServerConnector) {
                    ((ServerConnector) connector).setHost(HOST);
                    bound++;
                }
            }
            // A connector we could not move would still listen everywhere: refuse to start.
            if (bound == 0 || bound != server.getConnectors().length) {
                fail("this DynamoDB Local's Jetty server has connectors other than ServerConnector; cannot bind them to " + HOST, null);
            }
            // start() prints a SocketException and stops the server instead of throwing it.
            proxy.start();
            if (!server.isStarted()) fail("the server did not start (see the line above)", null);
        } catch (Throwable e) {
            fail("could not start", e);
            return;
        }
        try {
            server.join();
        } catch (Throwable e) {
            fail("stopped unexpectedly", e);
        }
    }

    /** DynamoDBProxyServer keeps its Jetty server in a private field, with no getter. */
    private static Server jettyServer(DynamoDBProxyServer proxy) throws ReflectiveOperationException {
        Field field;
        try {
            field = DynamoDBProxyServer.class.getDeclaredField("server");
        } catch (NoSuchFieldException e) {
            throw new NoSuchFieldException(
                    "DynamoDBProxyServer has no field \"server\" in this DynamoDB Local version (the launcher reads it to bind "
                            + HOST + ")");
        }
        field.setAccessible(true);
        Object value = field.get(proxy);
        if (!(value instanceof Server)) {
            throw new IllegalStateException("DynamoDBProxyServer.server is " + (value == null ? "null" : value.getClass().getName())
                    + ", not an org.eclipse.jetty.server.Server");
        }
        return (Server) value;
    }

    /** One line: the message, then each cause (a BindException is usually two levels down). */
    private static void fail(String what, Throwable error) {
        StringBuilder line = new StringBuilder("LoopbackDynamoDBLocal: ").append(what);
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            line.append(": ").append(t.getClass().getSimpleName());
            if (t.getMessage() != null) line.append(" (").append(t.getMessage().replace('\n', ' ')).append(')');
        }
        System.err.println(line);
        System.err.flush();
        // halt, not exit: a half-started Jetty's non-daemon threads or shutdown hooks must not keep the JVM up.
        Runtime.getRuntime().halt(1);
    }
}
