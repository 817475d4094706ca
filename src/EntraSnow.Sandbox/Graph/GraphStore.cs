using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace EntraSnow.Sandbox.Graph;

/// <summary>
/// The emulator's directory in SQLite. Objects are JSON documents with a version (a global change sequence) so delta
/// queries can return what changed after a token; deletions keep the row with the removal reason. One connection,
/// one lock: the emulator favours being simple and correct over concurrency.
/// </summary>
internal sealed class GraphStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private long _sequence;

    public GraphStore(string? databasePath)
    {
        var connectionString = databasePath is null
            ? new SqliteConnectionStringBuilder { DataSource = $"graph-emulator-{Guid.NewGuid():N}", Mode = SqliteOpenMode.Memory, Cache = SqliteCacheMode.Shared }.ToString()
            : new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString();
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, doc TEXT NOT NULL, manager_id TEXT, version INTEGER NOT NULL, removed TEXT, force_change INTEGER);
            CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, doc TEXT NOT NULL, version INTEGER NOT NULL, removed TEXT);
            CREATE TABLE IF NOT EXISTS members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, version INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (group_id, user_id));
            CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id);
            CREATE TABLE IF NOT EXISTS risk_detections (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS access_passes (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS subscriptions (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS directory_audits (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
            """);
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT MAX(v) FROM (SELECT MAX(version) v FROM users UNION ALL SELECT MAX(version) FROM groups UNION ALL SELECT MAX(version) FROM members)";
        _sequence = command.ExecuteScalar() is long max ? max : 0;
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>The version of the most recent change: a delta token taken now covers everything up to it.</summary>
    public long CurrentVersion
    {
        get
        {
            lock (_gate)
            {
                return _sequence;
            }
        }
    }

    public T InTransaction<T>(Func<Session, T> work)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            var result = work(new Session(this, transaction));
            transaction.Commit();
            return result;
        }
    }

    public T Read<T>(Func<Session, T> work)
    {
        lock (_gate)
        {
            return work(new Session(this, null));
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal sealed record UserRow(string Id, JsonObject Doc, string? ManagerId, long Version, string? Removed, bool ForceChange);

    internal sealed record GroupRow(string Id, JsonObject Doc, long Version, string? Removed);

    internal sealed record MemberRow(string GroupId, string UserId, long Version, bool Removed);

    /// <summary>Database work under the store's lock.</summary>
    internal sealed class Session(GraphStore store, SqliteTransaction? transaction)
    {
        public long NextVersion() => ++store._sequence;

        private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
        {
            var command = store._connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command;
        }

        private int Run(string sql, params (string, object?)[] parameters)
        {
            using var command = Command(sql, parameters);
            return command.ExecuteNonQuery();
        }

        private List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params (string, object?)[] parameters)
        {
            using var command = Command(sql, parameters);
            using var reader = command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                rows.Add(map(reader));
            }

            return rows;
        }

        private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

        private static JsonObject Doc(SqliteDataReader reader, int ordinal) => JsonNode.Parse(reader.GetString(ordinal))!.AsObject();

        private static UserRow MapUser(SqliteDataReader r) =>
            new(r.GetString(0), Doc(r, 1), Text(r, 2), r.GetInt64(3), Text(r, 4), !r.IsDBNull(5) && r.GetInt64(5) != 0);

        private static GroupRow MapGroup(SqliteDataReader r) => new(r.GetString(0), Doc(r, 1), r.GetInt64(2), Text(r, 3));

        private const string UserColumns = "id, doc, manager_id, version, removed, force_change";

        // Users

        public UserRow? GetUser(string id) =>
            Query($"SELECT {UserColumns} FROM users WHERE id = $id", MapUser, ("$id", id)).FirstOrDefault();

        public UserRow? GetUserByUserPrincipalName(string userPrincipalName) => userPrincipalName.Contains('@', StringComparison.Ordinal)
            ? Query($"SELECT {UserColumns} FROM users WHERE lower(json_extract(doc, '$.userPrincipalName')) = lower($upn)", MapUser, ("$upn", userPrincipalName)).FirstOrDefault()
            : null;

        public void PutUser(string id, JsonObject doc, string? managerId, string? removed, long version, bool? forceChange = null) =>
            Run("""
                INSERT INTO users (id, doc, manager_id, version, removed, force_change) VALUES ($id, $doc, $manager, $version, $removed, $force)
                ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, manager_id = excluded.manager_id, version = excluded.version,
                    removed = excluded.removed, force_change = COALESCE(excluded.force_change, users.force_change)
                """,
                ("$id", id), ("$doc", doc.ToJsonString()), ("$manager", managerId), ("$version", version), ("$removed", removed),
                ("$force", forceChange is null ? null : forceChange.Value ? 1 : 0));

        /// <summary>Live users in id order after <paramref name="afterId"/>, read lazily so a filter can stop early.</summary>
        public IEnumerable<UserRow> ScanUsers(string? afterId)
        {
            using var command = Command($"SELECT {UserColumns} FROM users WHERE removed IS NULL AND id > $after ORDER BY id", ("$after", afterId ?? ""));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                yield return MapUser(reader);
            }
        }

        public List<UserRow> UsersChanged(long from, long to, string? afterId, bool includeRemoved, int limit) =>
            Query($"""
                SELECT {UserColumns} FROM users WHERE version > $from AND version <= $to AND id > $after
                {(includeRemoved ? "" : "AND removed IS NULL")} ORDER BY id LIMIT $limit
                """, MapUser, ("$from", from), ("$to", to), ("$after", afterId ?? ""), ("$limit", limit));

        public int CountUsers() => Query("SELECT COUNT(*) FROM users WHERE removed IS NULL", r => r.GetInt32(0)).Single();

        public List<UserRow> DirectReports(string managerId) =>
            Query($"SELECT {UserColumns} FROM users WHERE manager_id = $m AND removed IS NULL", MapUser, ("$m", managerId));

        // Groups

        public GroupRow? GetGroup(string id) =>
            Query("SELECT id, doc, version, removed FROM groups WHERE id = $id", MapGroup, ("$id", id)).FirstOrDefault();

        public void PutGroup(string id, JsonObject doc, string? removed, long version) =>
            Run("""
                INSERT INTO groups (id, doc, version, removed) VALUES ($id, $doc, $version, $removed)
                ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, version = excluded.version, removed = excluded.removed
                """, ("$id", id), ("$doc", doc.ToJsonString()), ("$version", version), ("$removed", removed));

        public void TouchGroup(string id, long version) =>
            Run("UPDATE groups SET version = $version WHERE id = $id", ("$id", id), ("$version", version));

        public List<GroupRow> ListGroups(string? afterId, int limit) =>
            Query("SELECT id, doc, version, removed FROM groups WHERE removed IS NULL AND id > $after ORDER BY id LIMIT $limit",
                MapGroup, ("$after", afterId ?? ""), ("$limit", limit));

        public List<GroupRow> GroupsChanged(long from, long to, string? afterId, bool includeRemoved, int limit) =>
            Query($"""
                SELECT id, doc, version, removed FROM groups WHERE version > $from AND version <= $to AND id > $after
                {(includeRemoved ? "" : "AND removed IS NULL")} ORDER BY id LIMIT $limit
                """, MapGroup, ("$from", from), ("$to", to), ("$after", afterId ?? ""), ("$limit", limit));

        // Memberships

        /// <summary>Adds (or re-adds) a membership; false when it already existed.</summary>
        public bool AddMember(string groupId, string userId, long version)
        {
            var existing = Query("SELECT removed FROM members WHERE group_id = $g AND user_id = $u", r => r.GetInt64(0), ("$g", groupId), ("$u", userId));
            if (existing.Count == 1 && existing[0] == 0)
            {
                return false;
            }

            Run("""
                INSERT INTO members (group_id, user_id, version, removed) VALUES ($g, $u, $v, 0)
                ON CONFLICT(group_id, user_id) DO UPDATE SET version = excluded.version, removed = 0
                """, ("$g", groupId), ("$u", userId), ("$v", version));
            return true;
        }

        /// <summary>Marks a membership removed (kept for delta); false when there was none.</summary>
        public bool RemoveMember(string groupId, string userId, long version) =>
            Run("UPDATE members SET removed = 1, version = $v WHERE group_id = $g AND user_id = $u AND removed = 0",
                ("$g", groupId), ("$u", userId), ("$v", version)) == 1;

        public List<string> MemberIds(string groupId, string? afterId, int limit) =>
            Query("SELECT user_id FROM members WHERE group_id = $g AND removed = 0 AND user_id > $after ORDER BY user_id LIMIT $limit",
                r => r.GetString(0), ("$g", groupId), ("$after", afterId ?? ""), ("$limit", limit));

        public List<MemberRow> MembersChanged(string groupId, long from, long to) =>
            Query("""
                SELECT group_id, user_id, version, removed FROM members
                WHERE group_id = $g AND version > $from AND version <= $to ORDER BY user_id
                """, r => new MemberRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3) != 0),
                ("$g", groupId), ("$from", from), ("$to", to));

        public List<string> GroupIdsOf(string userId) =>
            Query("SELECT group_id FROM members WHERE user_id = $u AND removed = 0 ORDER BY group_id", r => r.GetString(0), ("$u", userId));

        // Risk detections

        public void PutRiskDetection(string id, JsonObject doc) =>
            Run("INSERT INTO risk_detections (id, doc) VALUES ($id, $doc) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                ("$id", id), ("$doc", doc.ToJsonString()));

        public JsonObject? GetRiskDetection(string id) =>
            Query("SELECT doc FROM risk_detections WHERE id = $id", r => Doc(r, 0), ("$id", id)).FirstOrDefault();

        public IEnumerable<JsonObject> ScanRiskDetections(string? afterId)
        {
            using var command = Command("SELECT doc FROM risk_detections WHERE id > $after ORDER BY id", ("$after", afterId ?? ""));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                yield return Doc(reader, 0);
            }
        }

        // Temporary Access Passes

        public void PutAccessPass(string id, string userId, JsonObject doc) =>
            Run("INSERT INTO access_passes (id, user_id, doc) VALUES ($id, $u, $doc)", ("$id", id), ("$u", userId), ("$doc", doc.ToJsonString()));

        public int DeleteAccessPass(string id, string userId) =>
            Run("DELETE FROM access_passes WHERE id = $id AND user_id = $u", ("$id", id), ("$u", userId));

        public int CountAccessPasses(string userId) =>
            Query("SELECT COUNT(*) FROM access_passes WHERE user_id = $u", r => r.GetInt32(0), ("$u", userId)).Single();

        // Subscriptions

        public List<JsonObject> ListSubscriptions() => Query("SELECT doc FROM subscriptions ORDER BY id", r => Doc(r, 0));

        public JsonObject? GetSubscription(string id) =>
            Query("SELECT doc FROM subscriptions WHERE id = $id", r => Doc(r, 0), ("$id", id)).FirstOrDefault();

        public void PutSubscription(string id, JsonObject doc) =>
            Run("INSERT INTO subscriptions (id, doc) VALUES ($id, $doc) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                ("$id", id), ("$doc", doc.ToJsonString()));

        public bool DeleteSubscription(string id) => Run("DELETE FROM subscriptions WHERE id = $id", ("$id", id)) == 1;

        // Directory audit log, newest first (seq is the order entries were written)

        public void AppendAudit(JsonObject doc) => Run("INSERT INTO directory_audits (doc) VALUES ($doc)", ("$doc", doc.ToJsonString()));

        public IEnumerable<(long Seq, JsonObject Doc)> ScanAuditsNewestFirst(long? before)
        {
            using var command = Command("SELECT seq, doc FROM directory_audits WHERE seq < $before ORDER BY seq DESC", ("$before", before ?? long.MaxValue));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                yield return (reader.GetInt64(0), Doc(reader, 1));
            }
        }

        // Settings that outlive a restart of a file-backed emulator

        public string? GetMeta(string key) => Query("SELECT value FROM meta WHERE key = $k", r => r.GetString(0), ("$k", key)).FirstOrDefault();

        public void SetMeta(string key, string value) =>
            Run("INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", ("$k", key), ("$v", value));
    }
}
