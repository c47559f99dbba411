package io.mqdb.observe;

import io.mqdb.node.apply.ApplyProgress;
import io.mqdb.node.catchup.Control;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.spi.TableId;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Keeps each subscribed channel's applied position retained on {@code mqdb/<cluster>/applied/<schema>/<table>/<node>}
 * ({@link Control.Applied}), signed when {@code node.signing} is on, as positions are. Coalesced: called once a
 * second, it publishes a channel's position only when it changed since the last one the broker took, and every
 * position again after the node's control session reconnected (a broker that restarted without its retained
 * messages learns them again). Its {@code oldestUnappliedMillis} and {@code eventsBehind} change while a channel is
 * behind, so a lagging channel is published once a second, a caught-up idle one never.
 *
 * <h2>Threads</h2>
 * {@link #publishChanged} runs on the node's {@code observe-<node>} thread only; the publish callbacks run on the
 * transport's threads and only clear what was remembered as sent.
 */
final class AppliedPositions {
    private final NodeContext ctx;
    private final List<ApplyProgress> channels;
    private final Map<TableId, byte[]> sent = new HashMap<>();
    private boolean wasConnected;

    private final Predicate<TableId> paused;

    /**
     * @param ctx the node's shared context (topics, transport, counters)
     * @param channels the subscribed channels' progress
     * @param paused whether a channel is paused (admin API)
     */
    AppliedPositions(NodeContext ctx, Collection<ApplyProgress> channels, Predicate<TableId> paused) {
        this.ctx = ctx;
        this.channels = List.copyOf(channels);
        this.paused = paused;
    }

    /**
     * @param connected whether the node's control session is connected now
     * @param nowMillis the time now
     */
    void publishChanged(boolean connected, long nowMillis) {
        if (!connected) {
            wasConnected = false;
            return;
        }
        if (!wasConnected) {
            wasConnected = true;
            synchronized (sent) {
                sent.clear(); // a new connection: publish everything once
            }
        }
        for (ApplyProgress p : channels) {
            ApplyProgress.Snapshot s = p.snapshot();
            byte[] json = new Control.Applied(ctx.nodeName(), s.channel(), s.applied(), s.lastAppliedMillis(),
                    s.oldestUnappliedMillis(), Lag.of(s, nowMillis).events(),
                    ctx.metrics().deadLetters(s.channel()).sum(), paused.test(s.channel())).toJson();
            synchronized (sent) {
                if (Arrays.equals(json, sent.get(s.channel()))) {
                    continue;
                }
                sent.put(s.channel(), json);
            }
            String topic = ctx.topics().applied(ctx.nodeName(), s.channel());
            ctx.transport().publish(topic, ctx.seal(topic, json), true).whenComplete((ok, e) -> {
                if (e != null) {
                    synchronized (sent) {
                        sent.remove(s.channel(), json); // tried again at the next tick
                    }
                }
            });
        }
    }
}
