using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Longshot.Studio.Tests;

/// <summary>
/// Firefox driven through Marionette, the remote protocol built into every Firefox (Playwright needs its own Firefox
/// build, which cannot be downloaded here): a headless Firefox with a fresh profile, and the few WebDriver commands the
/// studio's test needs (navigate, run a script), as length-prefixed JSON over a local TCP port.
/// </summary>
internal sealed class Marionette : IDisposable
{
    private readonly Process _firefox;
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly string _profile;
    private int _id;

    private Marionette(Process firefox, TcpClient tcp, string profile)
    {
        _firefox = firefox; _tcp = tcp; _stream = tcp.GetStream(); _profile = profile;
    }

    /// <summary>Starts Firefox (binary <paramref name="exe"/>) headless and opens a session.</summary>
    public static Marionette Start(string exe)
    {
        var profile = Directory.CreateTempSubdirectory("longshot-firefox-").FullName;
        int port = FreePort();
        File.WriteAllText(Path.Combine(profile, "user.js"),
            $"user_pref(\"marionette.port\", {port});\nuser_pref(\"media.autoplay.default\", 0);\n" +
            "user_pref(\"browser.shell.checkDefaultBrowser\", false);\n");
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true,
            RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--marionette", "--no-remote", "--profile",
            profile }) psi.ArgumentList.Add(a);
        psi.Environment["MOZ_HEADLESS"] = "1";
        var firefox = Process.Start(psi)!;
        firefox.OutputDataReceived += (_, _) => { };
        firefox.ErrorDataReceived += (_, _) => { };
        firefox.BeginOutputReadLine();
        firefox.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var tcp = new TcpClient();
                tcp.Connect(IPAddress.Loopback, port);
                var m = new Marionette(firefox, tcp, profile);
                m.ReadMessage();                                          // the greeting
                m.Command("WebDriver:NewSession", new JsonObject { ["capabilities"] = new JsonObject() });
                return m;
            }
            catch (SocketException) when (DateTime.UtcNow < until && !firefox.HasExited) { Thread.Sleep(200); }
        }
    }

    public void Navigate(string url) => Command("WebDriver:Navigate", new JsonObject { ["url"] = url });

    /// <summary>Runs <paramref name="script"/> (a function body; `return` gives the value) in the page.</summary>
    public JsonNode? Run(string script) =>
        Command("WebDriver:ExecuteScript",
            new JsonObject { ["script"] = script, ["args"] = new JsonArray() })?["value"];

    /// <summary>Runs <paramref name="condition"/> until it returns true.</summary>
    public void WaitFor(string condition, int seconds, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (Run(condition)?.GetValueKind() == JsonValueKind.True) return;
            Thread.Sleep(200);
        }
        throw new TimeoutException($"Firefox: {what} did not happen in {seconds} s");
    }

    private JsonNode? Command(string name, JsonObject parameters)
    {
        int id = ++_id;
        var body = Encoding.UTF8.GetBytes(new JsonArray(0, id, name, parameters).ToJsonString());
        var frame = Encoding.ASCII.GetBytes($"{body.Length}:");
        _stream.Write(frame);
        _stream.Write(body);
        var reply = JsonNode.Parse(ReadMessage())!.AsArray();
        if (reply[2] is JsonNode error)
            throw new InvalidOperationException($"Firefox: {name} failed: {error.ToJsonString()}");
        return reply[3];
    }

    private string ReadMessage()
    {
        var length = new StringBuilder();
        int b;
        while ((b = _stream.ReadByte()) != ':')
        {
            if (b < 0) throw new IOException("Firefox closed the Marionette connection.");
            length.Append((char)b);
        }
        var buffer = new byte[int.Parse(length.ToString())];
        _stream.ReadExactly(buffer);
        return Encoding.UTF8.GetString(buffer);
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try { Command("Marionette:Quit", new JsonObject()); } catch (Exception) { /* it may already be gone */ }
        _tcp.Dispose();
        if (!_firefox.WaitForExit(10_000)) _firefox.Kill(true);
        try { Directory.Delete(_profile, true); } catch (IOException) { }
    }
}
