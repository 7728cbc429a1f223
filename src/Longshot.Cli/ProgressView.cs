using System.Diagnostics;
using Spectre.Console;

namespace Longshot.Cli;

/// <summary>Shows progress with an ETA: a live bar on a terminal, periodic lines when output is redirected, nothing
/// with --quiet.</summary>
internal sealed class ProgressView
{
    private readonly bool _quiet;

    public ProgressView(bool quiet) => _quiet = quiet;

    /// <summary>Runs work that reports (done, total, detail) and returns its result.</summary>
    public T Run<T>(string title, Func<IProgress<(double Done, double Total, string Detail)>, T> work)
    {
        if (_quiet) return work(new SyncProgress<(double Done, double Total, string Detail)>(_ => { }));
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            T result = default!;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: 1);
                    result = work(new SyncProgress<(double Done, double Total, string Detail)>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                        task.Description = $"{title} {p.Detail}";
                    }));
                    task.Value = task.MaxValue;
                });
            return result;
        }
        var sw = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        return work(new SyncProgress<(double Done, double Total, string Detail)>(p =>
        {
            if (sw.Elapsed - last < TimeSpan.FromSeconds(2) && p.Done < p.Total) return;
            last = sw.Elapsed;
            double frac = p.Total > 0 ? p.Done / p.Total : 0;
            string eta = frac > 0
                ? TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds * (1 - frac) / frac).ToString(@"hh\:mm\:ss")
                : "--:--:--";
            Console.Error.WriteLine($"{title} {p.Detail} {frac * 100,5:F1}%  eta {eta}");
        }));
    }

}
