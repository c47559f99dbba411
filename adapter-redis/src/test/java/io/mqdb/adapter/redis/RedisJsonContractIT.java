package io.mqdb.adapter.redis;

import java.util.Map;

/** The shared store contract against one standalone Redis, rows stored as JSON strings ({@code format: json}). */
class RedisJsonContractIT extends RedisContractIT {
    @Override
    protected Map<String, Object> formatSettings() {
        return Map.of(RedisSettings.FORMAT, "json");
    }
}
