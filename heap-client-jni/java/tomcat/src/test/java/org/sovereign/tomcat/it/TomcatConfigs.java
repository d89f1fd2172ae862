package org.sovereign.tomcat.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The configurations the benchmark compares SovereignSessionManager with: Tomcat's StandardManager
 * (sessions in one Tomcat's memory: the ceiling, no failover) and DeltaManager (sessions replicated
 * to the other Tomcat by Tribes, with static membership on loopback; needs stickiness).
 */
final class TomcatConfigs {
    private TomcatConfigs() {
    }

    /** Rewrites a prepared CATALINA_BASE to run the demo shop with StandardManager or, if {@code delta}, DeltaManager. */
    static void useTomcatSessions(Path base, String name, int port, boolean delta, int tribesPort, int peerTribesPort)
            throws IOException {
        Files.writeString(base.resolve("webapps/cart/META-INF/context.xml"), delta
                ? "<Context/>\n"
                : "<Context>\n  <Manager className=\"org.apache.catalina.session.StandardManager\" pathname=\"\"/>\n</Context>\n",
                StandardCharsets.UTF_8);
        if (!delta) {
            return;
        }
        Files.writeString(base.resolve("webapps/cart/WEB-INF/web.xml"), String.join("\n",
                "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.0\" metadata-complete=\"false\">",
                "  <distributable/>",
                "</web-app>", ""), StandardCharsets.UTF_8);
        String self = member(tribesPort, name.equals("A") ? 1 : 2);
        String peer = member(peerTribesPort, name.equals("A") ? 2 : 1);
        Files.writeString(base.resolve("conf/server.xml"), String.join("\n",
                "<Server port=\"-1\" shutdown=\"SHUTDOWN\">",
                "  <Service name=\"Catalina\">",
                "    <Connector port=\"" + port + "\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\"/>",
                "    <Engine name=\"Catalina\" defaultHost=\"localhost\" jvmRoute=\"" + name + "\">",
                "      <Cluster className=\"org.apache.catalina.ha.tcp.SimpleTcpCluster\" channelSendOptions=\"8\">",
                "        <Manager className=\"org.apache.catalina.ha.session.DeltaManager\" expireSessionsOnShutdown=\"false\"",
                "                 notifyListenersOnReplication=\"true\"/>",
                "        <Channel className=\"org.apache.catalina.tribes.group.GroupChannel\">",
                "          <Membership className=\"org.apache.catalina.tribes.membership.StaticMembershipService\">",
                "            " + self,
                "            " + peer,
                "          </Membership>",
                "          <Receiver className=\"org.apache.catalina.tribes.transport.nio.NioReceiver\" address=\"127.0.0.1\"",
                "                    port=\"" + tribesPort + "\" autoBind=\"0\" selectorTimeout=\"5000\" maxThreads=\"6\"/>",
                "          <Sender className=\"org.apache.catalina.tribes.transport.ReplicationTransmitter\">",
                "            <Transport className=\"org.apache.catalina.tribes.transport.nio.PooledParallelSender\"/>",
                "          </Sender>",
                "          <Interceptor className=\"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector\"/>",
                "          <Interceptor className=\"org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor\"/>",
                "        </Channel>",
                "        <Valve className=\"org.apache.catalina.ha.tcp.ReplicationValve\" filter=\"\"/>",
                "        <Valve className=\"org.apache.catalina.ha.session.JvmRouteBinderValve\"/>",
                "        <ClusterListener className=\"org.apache.catalina.ha.session.ClusterSessionListener\"/>",
                "      </Cluster>",
                "      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"false\" autoDeploy=\"false\"/>",
                "    </Engine>",
                "  </Service>",
                "</Server>", ""), StandardCharsets.UTF_8);
    }

    private static String member(int port, int number) {
        StringBuilder id = new StringBuilder("{");
        for (int i = 0; i < 16; i++) {
            id.append(i == 0 ? "" : ",").append(i == 15 ? number : 0);
        }
        return "<Member className=\"org.apache.catalina.tribes.membership.StaticMember\" port=\"" + port
                + "\" host=\"127.0.0.1\" uniqueId=\"" + id.append('}') + "\"/>";
    }
}
