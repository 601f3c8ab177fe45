//! Redis ephemeral store, shared by every node (Redis 6.0 or later, for `KEEPTTL`).
//!
//! One multiplexed [`ConnectionManager`] serves all requests and reconnects on its own.
//! Values are stored with a one-byte kind prefix — `v` + bytes for a value, `t` alone for
//! a tombstone — so any byte string round-trips and can never be mistaken for a tombstone.
//! Counters are plain Redis integers. TTLs are milliseconds (`PX`), rounded up so a short
//! TTL never becomes "no TTL". Every operation is bounded in time: a dead or stalled Redis
//! yields an [`EphemeralError`] quickly instead of hanging a login.

use super::{Consumed, EphemeralError, EphemeralStore};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script, Value};
use std::future::Future;
use std::time::Duration;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long Redis may take to answer one command.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Hard ceiling on a whole operation, reconnection included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Connection attempts beyond the first before `connect` or a reconnect gives up.
const CONNECT_RETRIES: usize = 2;

const VALUE_TAG: u8 = b'v';
const TOMBSTONE: &[u8] = b"t";

/// Swaps a value for a tombstone with the same remaining TTL, in one atomic step, and
/// returns what was there (nil, the tombstone, or the tagged value).
const CONSUME_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'v' then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return v
";

/// Counts, and sets the window's TTL only on its first increment. The `PTTL == -1` check
/// means a counter somehow left without expiry can never become immortal.
const INCR_LUA: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// An [`EphemeralStore`] on Redis. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    consume: Script,
    incr: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password, so only the prefix is shown.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// An error that names the operation and Redis' error kind, never keys, values or the URL.
fn fail(op: &str, e: &RedisError) -> EphemeralError {
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        "connection failed".to_owned()
    } else {
        format!("{:?}", e.kind())
    };
    EphemeralError(format!("redis {op}: {why}"))
}

/// Redis rejects expiry times that overflow its signed millisecond clock; this ceiling is
/// still millions of years away.
const MAX_TTL_MS: u64 = (i64::MAX / 2) as u64;

fn ttl_ms(ttl: Duration) -> u64 {
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(MAX_TTL_MS).clamp(1, MAX_TTL_MS)
}

fn tagged(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(VALUE_TAG);
    out.extend_from_slice(value);
    out
}

/// What a stored string holds.
enum Stored {
    Value(Vec<u8>),
    Tombstone,
}

fn decode(op: &str, raw: Vec<u8>) -> Result<Stored, EphemeralError> {
    match raw.split_first() {
        Some((&VALUE_TAG, rest)) => Ok(Stored::Value(rest.to_vec())),
        _ if raw == TOMBSTONE => Ok(Stored::Tombstone),
        _ => Err(EphemeralError(format!(
            "redis {op}: key holds a different kind of entry"
        ))),
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://` or `rediss://`) and prepends `key_prefix` to every key.
    /// Fails within a few seconds when Redis cannot be reached.
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self, EphemeralError> {
        let client = redis::Client::open(url)
            .map_err(|e| EphemeralError(format!("invalid redis url: {:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(CONNECT_RETRIES)
            .set_max_delay(500);
        let conn = tokio::time::timeout(
            CONNECT_TIMEOUT * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| EphemeralError("redis connect: timed out".into()))?
        .map_err(|e| fail("connect", &e))?;
        Ok(Self {
            conn,
            prefix: key_prefix.to_owned(),
            consume: Script::new(CONSUME_LUA),
            incr: Script::new(INCR_LUA),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one Redis exchange under [`OPERATION_TIMEOUT`], mapping every failure.
    async fn bounded<T, F>(&self, op: &str, fut: F) -> Result<T, EphemeralError>
    where
        F: Future<Output = Result<T, RedisError>>,
    {
        match tokio::time::timeout(OPERATION_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(fail(op, &e)),
            Err(_) => Err(EphemeralError(format!("redis {op}: timed out"))),
        }
    }
}

#[async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.key(key))
            .arg(tagged(value))
            .arg("PX")
            .arg(ttl_ms(ttl))
            .to_owned();
        self.bounded("put", cmd.query_async::<()>(&mut conn)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("GET").arg(self.key(key)).to_owned();
        let raw: Option<Vec<u8>> = self.bounded("get", cmd.query_async(&mut conn)).await?;
        match raw.map(|r| decode("get", r)).transpose()? {
            Some(Stored::Value(v)) => Ok(Some(v)),
            Some(Stored::Tombstone) | None => Ok(None),
        }
    }

    async fn consume(&self, key: &str) -> Result<Consumed, EphemeralError> {
        let mut conn = self.conn.clone();
        let mut call = self.consume.key(self.key(key));
        call.arg(TOMBSTONE);
        let raw: Option<Vec<u8>> = self
            .bounded("consume", call.invoke_async(&mut conn))
            .await?;
        match raw.map(|r| decode("consume", r)).transpose()? {
            Some(Stored::Value(v)) => Ok(Consumed::Value(v)),
            Some(Stored::Tombstone) => Ok(Consumed::AlreadyConsumed),
            None => Ok(Consumed::Missing),
        }
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.key(key))
            .arg(tagged(value))
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(ttl))
            .to_owned();
        let reply: Value = self
            .bounded("set_if_absent", cmd.query_async(&mut conn))
            .await?;
        Ok(!matches!(reply, Value::Nil))
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        let mut conn = self.conn.clone();
        let mut call = self.incr.key(self.key(key));
        call.arg(ttl_ms(ttl));
        self.bounded("incr", call.invoke_async(&mut conn)).await
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("DEL").arg(self.key(key)).to_owned();
        self.bounded("delete", cmd.query_async::<()>(&mut conn))
            .await
    }

    async fn ping(&self) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        let _: String = self.bounded("ping", cmd.query_async(&mut conn)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_milliseconds() {
        assert_eq!(ttl_ms(Duration::ZERO), 1);
        assert_eq!(ttl_ms(Duration::from_micros(1)), 1);
        assert_eq!(ttl_ms(Duration::from_micros(1500)), 2);
        assert_eq!(ttl_ms(Duration::from_secs(2)), 2000);
        assert_eq!(ttl_ms(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn encoding_never_confuses_values_and_tombstones() {
        assert!(matches!(decode("t", tagged(b"t")), Ok(Stored::Value(v)) if v == b"t"));
        assert!(matches!(decode("t", tagged(b"")), Ok(Stored::Value(v)) if v.is_empty()));
        assert!(matches!(decode("t", b"t".to_vec()), Ok(Stored::Tombstone)));
        assert!(decode("t", b"42".to_vec()).is_err());
        assert!(decode("t", Vec::new()).is_err());
    }
}
