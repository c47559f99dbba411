package io.mqdb.observe;

import io.mqdb.node.apply.ApplyProgress;
import io.mqdb.node.catchup.Control;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far a subscriber applied the snapshot (initial load or re-sync) one origin announced on a channel: the rows of
 * the snapshot's numbering ({@code firstSeq} onwards) up to which the subscriber applied everything, of the rows the
 * origin counted when it started. Pure; immutable.
 *
 * @param origin the publishing node
 * @param applied rows of the snapshot applied, 0 to {@code total}
 * @param total rows the origin counted when the snapshot started
 * @param published whether the origin finished publishing it
 */
public record LoadProgress(String origin, long applied, long total, boolean published) {
    /** @return whether every row of the snapshot was applied */
    public boolean complete() {
        return applied >= total;
    }

    /**
     * @param s a channel's progress on this node
     * @return per origin whose last snapshot announced a row count, by origin name
     */
    public static List<LoadProgress> of(ApplyProgress.Snapshot s) {
        List<LoadProgress> out = new ArrayList<>();
        for (Map.Entry<String, Control.Snapshot> e : new TreeMap<>(s.loads()).entrySet()) {
            Control.Snapshot sn = e.getValue();
            if (sn.total() <= 0) {
                continue;
            }
            long have = s.applied().getOrDefault(e.getKey(), 0L);
            long rows = Math.max(0, Math.min(sn.total(), have - sn.firstSeq() + 1));
            if (sn.done() && have >= sn.endSeq()) {
                rows = sn.total(); // rows deleted while it ran make it shorter than counted
            }
            out.add(new LoadProgress(e.getKey(), rows, sn.total(), sn.done()));
        }
        return out;
    }
}
