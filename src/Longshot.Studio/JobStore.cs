using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Longshot.Studio;

/// <summary>A job as the history keeps it.</summary>
public sealed record JobRecord(string Id, string Kind, JobSpec Spec, string Status, DateTime Created, DateTime? Started,
    DateTime? Finished, string? Error, string? Video)
{
    /// <summary>How long it ran (seconds, to a tenth), once it has ended.</summary>
    public double? Seconds => Started is { } s && Finished is { } f && f >= s
        ? Math.Round((f - s).TotalSeconds, 1) : null;

    /// <summary>Whether it is still to run or running.</summary>
    public bool IsUnfinished => Status is JobStatus.Queued or JobStatus.Running;
}

/// <summary>Job states.</summary>
public static class JobStatus
{
    public const string Queued = "queued", Running = "running", Done = "done", Failed = "failed",
        Cancelled = "cancelled";
}

/// <summary>
/// The job history in SQLite (workspace/studio.db): it outlives the server, so a restart shows every job and picks up
/// the ones that were queued or running. Calls are serialised (one connection, one lock); the history is small.
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly object _lock = new();

    public JobStore(string path)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path }.ToString());
        _db.Open();
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, spec TEXT NOT NULL, status TEXT NOT NULL,
                created TEXT NOT NULL, started TEXT, finished TEXT, error TEXT, video TEXT)
            """);
    }

    public void Add(JobRecord j) => Execute(
        "INSERT INTO jobs (id, kind, spec, status, created) VALUES ($id, $kind, $spec, $status, $created)",
        ("$id", j.Id), ("$kind", j.Kind), ("$spec", JsonSerializer.Serialize(j.Spec)), ("$status", j.Status),
        ("$created", j.Created.ToString("O")));

    public void SetStatus(string id, string status, string? error = null, string? video = null)
    {
        string column = status == JobStatus.Running ? "started" : "finished";
        Execute($"UPDATE jobs SET status = $status, error = $error, video = COALESCE($video, video), {column} = $now " +
                "WHERE id = $id", ("$id", id), ("$status", status), ("$error", error), ("$video", video),
            ("$now", DateTime.UtcNow.ToString("O")));
    }

    /// <summary>Removes a job's row (its files are the caller's).</summary>
    public void Delete(string id) => Execute("DELETE FROM jobs WHERE id = $id", ("$id", id));

    public JobRecord? Get(string id) => Query("SELECT * FROM jobs WHERE id = $id", ("$id", id)).FirstOrDefault();

    /// <summary>Every job, newest first.</summary>
    public List<JobRecord> All() => Query("SELECT * FROM jobs ORDER BY created DESC");

    /// <summary>Jobs still to run (queued, or running when the server stopped), oldest first.</summary>
    public List<JobRecord> Unfinished() =>
        Query("SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY created ASC");

    private void Execute(string sql, params (string Name, object? Value)[] args)
    {
        lock (_lock)
        {
            using var cmd = Command(sql, args);
            cmd.ExecuteNonQuery();
        }
    }

    private List<JobRecord> Query(string sql, params (string Name, object? Value)[] args)
    {
        lock (_lock)
        {
            using var cmd = Command(sql, args);
            using var r = cmd.ExecuteReader();
            var list = new List<JobRecord>();
            while (r.Read())
            {
                DateTime? Time(string c) => r[c] is string s
                    ? DateTime.Parse(s, null, System.Globalization.DateTimeStyles.RoundtripKind) : null;
                list.Add(new JobRecord((string)r["id"], (string)r["kind"],
                    JobSpec.FromStored((string)r["spec"]),
                    (string)r["status"], Time("created")!.Value, Time("started"), Time("finished"),
                    r["error"] as string, r["video"] as string));
            }
            return list;
        }
    }

    private SqliteCommand Command(string sql, (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    public void Dispose() => _db.Dispose();
}
