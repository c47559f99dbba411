package io.mqdb.node.runtime;

/**
 * A token bucket: up to {@code burst} events at once, then {@code perSecond} on average. Bounds the work anyone with
 * publish access can cause on a control topic before the message's signature is even checked (an Ed25519
 * verification costs tens of microseconds). Thread-safe.
 */
public final class TokenBucket {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long lastNanos;

    /**
     * @param perSecond the average rate allowed, at least 1
     * @param burst the most events allowed at once, at least 1
     * @param nowNanos the current {@link System#nanoTime()}
     */
    public TokenBucket(double perSecond, double burst, long nowNanos) {
        if (perSecond < 1 || burst < 1) {
            throw new IllegalArgumentException("rate and burst must be at least 1: " + perSecond + ", " + burst);
        }
        this.perNano = perSecond / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = nowNanos;
    }

    /**
     * @param nowNanos the current {@link System#nanoTime()}
     * @return whether one more event is allowed now (it then takes a token)
     */
    public synchronized boolean tryTake(long nowNanos) {
        long elapsed = nowNanos - lastNanos;
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed * perNano);
            lastNanos = nowNanos;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
