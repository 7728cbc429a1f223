using System.CommandLine;
using Longshot.Studio;

namespace Longshot.Cli.Commands;

/// <summary>`longshot serve`: Longshot Studio, the web page for writing storylines and watching them being
/// generated.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = CliOptions.Text("--urls", "where to listen (default http://127.0.0.1:5000: this machine only)",
            "URL");
        var workspace = CliOptions.Text("--workspace", "folder of the job history, runs and outputs (default studio)",
            "DIR");
        var maxFrames = CliOptions.Int("--max-frames", "longest video a job may ask for", 4096, 1, 1 << 19);
        var maxJobs = CliOptions.Int("--max-jobs", "jobs that may wait in the queue", 16, 1, 10_000);
        var allowRemote = CliOptions.Flag("--allow-remote", "listen on an address other machines reach (--urls " +
            "http://0.0.0.0:5000); anyone who reaches it can start jobs, so set --token too");
        var hosts = new Option<string[]>("--allowed-host")
        {
            Description = "a host name the studio answers to besides localhost and the --urls host (repeatable; " +
                "e.g. the machine's network name)", HelpName = "NAME", AllowMultipleArgumentsPerToken = false,
        };
        var token = CliOptions.Text("--token", "every request must carry this access token (default: the " +
            "LONGSHOT_STUDIO_TOKEN environment variable; none)", "TOKEN");
        return new Command("serve",
            "Longshot Studio: write a storyline, watch the video being generated level by level, " +
                                    "redraw a range; in the browser.")
            .With(urls, workspace, maxFrames, maxJobs, allowRemote, hosts, token).Runs((p, ct) =>
            {
                var options = new StudioOptions
                {
                    Workspace = Path.GetFullPath(p.GetValue(workspace) ?? "studio"),
                    Urls = p.GetValue(urls) ?? "http://127.0.0.1:5000",
                    MaxFrames = p.GetValue(maxFrames), MaxQueuedJobs = p.GetValue(maxJobs),
                    AllowRemote = p.GetValue(allowRemote), AllowedHosts = p.GetValue(hosts) ?? Array.Empty<string>(),
                    AccessToken = p.GetValue(token) ?? Environment.GetEnvironmentVariable("LONGSHOT_STUDIO_TOKEN"),
                };
                if (!Uri.TryCreate(options.Urls.Split(';')[0], UriKind.Absolute, out _))
                    throw new Tensors.LongshotException(
                        $"--urls: '{options.Urls}' is not a URL such as http://127.0.0.1:5000.");
                var app = StudioApp.Build(options);
                if (RequestGuard.IsBeyondLoopback(options.Urls))
                    Console.Error.WriteLine("warning: the studio listens beyond this machine; anyone who reaches " +
                        $"{options.Urls} " + (options.AccessToken == null ? "can start and cancel jobs (no --token)."
                            : "with the token can start and cancel jobs."));
                string open = options.AccessToken == null ? options.Urls.Split(';')[0]
                    : $"{options.Urls.Split(';')[0].TrimEnd('/')}/?token={Uri.EscapeDataString(options.AccessToken)}";
                Console.WriteLine($"Longshot Studio on {open} (workspace {options.Workspace}); Ctrl-C stops it.");
                app.StartAsync(ct).GetAwaiter().GetResult();
                // Until Ctrl-C or SIGTERM: then the queue stops, and a running job resumes at the next start.
                try { Task.Delay(Timeout.Infinite, ct).GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { }
                app.StopAsync().GetAwaiter().GetResult();
                Console.WriteLine("stopped.");
                return 0;
            });
    }
}
