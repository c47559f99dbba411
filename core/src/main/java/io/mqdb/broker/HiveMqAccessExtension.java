package io.mqdb.broker;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.TopicPermission;
import com.hivemq.extension.sdk.api.packets.auth.DefaultAuthorizationBehaviour;
import com.hivemq.extension.sdk.api.packets.auth.ModifiableDefaultPermissions;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded broker's gatekeeper: a HiveMQ extension, loaded in-process as an embedded extension, that lets a client
 * connect only when {@link BrokerAccess} accepts its user name, password and client id, and then gives it exactly the
 * topic permissions of its role, everything else denied (HiveMQ refuses a denied publish with a PUBACK
 * {@code NOT_AUTHORIZED} and a denied subscription with a SUBACK {@code NOT_AUTHORIZED} to MQTT 5 clients). A
 * refused connection gets CONNACK {@code BAD_USER_NAME_OR_PASSWORD} and one WARN line naming the user, the client id
 * and the address (never the password).
 *
 * <p>Threads: {@link #extensionStart} runs on HiveMQ's start-up thread; the authenticator on HiveMQ's connection
 * threads. Holds no mutable state.
 */
final class HiveMqAccessExtension implements ExtensionMain {
    private static final Logger LOG = LoggerFactory.getLogger(HiveMqAccessExtension.class);

    private final BrokerAccess access;

    HiveMqAccessExtension(BrokerAccess access) {
        this.access = access;
    }

    @Override
    public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
        SimpleAuthenticator authenticator = this::onConnect;
        Services.securityRegistry().setAuthenticatorProvider(i -> authenticator);
    }

    @Override
    public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
        // nothing to release
    }

    private void onConnect(SimpleAuthInput input, SimpleAuthOutput output) {
        var connect = input.getConnectPacket();
        String user = connect.getUserName().orElse(null);
        byte[] password = connect.getPassword().map(HiveMqAccessExtension::bytes).orElse(null);
        Optional<BrokerAccess.Grant> grant = access.authenticate(user, password, connect.getClientId());
        if (grant.isEmpty()) {
            String from = input.getConnectionInformation().getInetAddress().map(a -> a.getHostAddress())
                    .orElse("?");
            LOG.warn("embedded broker: refused client {} (user {}) from {}: {}", connect.getClientId(),
                    user == null ? "none" : user, from, user == null ? "no credentials"
                            : "unknown user, wrong password, or a client id that is not the user's");
            output.failAuthentication(ConnackReasonCode.BAD_USER_NAME_OR_PASSWORD, "not authorized");
            return;
        }
        ModifiableDefaultPermissions permissions = output.getDefaultPermissions();
        for (BrokerAccess.Permission p : grant.get().permissions()) {
            permissions.add(Builders.topicPermission()
                    .topicFilter(p.topicFilter())
                    .type(TopicPermission.PermissionType.ALLOW)
                    .activity(p.activity() == BrokerAccess.Activity.PUBLISH ? TopicPermission.MqttActivity.PUBLISH
                            : TopicPermission.MqttActivity.SUBSCRIBE)
                    .retain(p.activity() == BrokerAccess.Activity.SUBSCRIBE || p.retainedToo()
                            ? TopicPermission.Retain.ALL : TopicPermission.Retain.NOT_RETAINED)
                    .build());
        }
        permissions.setDefaultBehaviour(DefaultAuthorizationBehaviour.DENY);
        output.authenticateSuccessfully();
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
