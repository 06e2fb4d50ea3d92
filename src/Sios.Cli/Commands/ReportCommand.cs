using System.CommandLine;
using System.Text;
using System.Text.Json;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Node.Sovereignty;
using Sios.Verify.Attestations;

namespace Sios.Cli.Commands;

/// <summary><c>sios report</c>: the sovereignty report, the seed's five questions answered from local evidence.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format")
        {
            Description = "md (a document for people, the default) or json (for programs)",
            DefaultValueFactory = _ => "md",
            HelpName = "md|json",
        };
        format.AcceptOnlyFromAmong("md", "json");
        var command = new Command("report", """
            The sovereignty report: where the weights, keys and record physically reside (paths, mount points,
            devices), who holds what, what was verified and when, and the answers to: Where are the weights? Who
            holds the keys? Where is the record? Can it be verified without us? Can anyone reach it from outside?
            No earlier check is recorded, so the report runs them now: re-hashes every brain, audits the whole log
            and verifies the latest attestation kept in DATA/attestations. Reads only; no passphrase needed; works
            while 'sios serve' runs. Exit 0 when everything checked out, 1 when something did not (it is named).
            """) { format };
        command.SetAction(async (parse, ct) =>
        {
            var facts = await SovereigntyReport.GatherAsync(CommonOptions.OpenData(parse), ct).ConfigureAwait(false);
            Terminal.Result(parse.GetValue(format) == "json" ? Json(facts) : Markdown(facts));
            var ok = facts.Audit.Intact && facts.Weights.All(w => w.Disk == "ok") && facts.Attestation is not { Valid: false };
            return ok ? ExitCodes.Ok : ExitCodes.Invalid;
        });
        return command;
    }

    private static string Markdown(SovereigntyFacts f)
    {
        var md = new StringBuilder();
        md.Append("# Sovereignty report: ").Append(f.Origin).Append("\n\n");
        md.Append("Generated ").Append(AttestationStatement.FormatTime(f.Generated)).Append(" from the data folder `").Append(f.DataFolder).Append("`.\n\n");
        foreach (var answer in f.Answers)
        {
            md.Append("## ").Append(answer.Question).Append("\n\n").Append(answer.Text).Append("\n\n");
        }

        md.Append("## Weights\n\n| brain | file | path | mount | device | pinned SHA-256 | on disk |\n|---|---|---|---|---|---|---|\n");
        foreach (var w in f.Weights)
        {
            md.Append($"| {w.Brain} | {w.Role} | `{w.Location.Path}` | {w.Location.MountPoint ?? "?"} ({w.Location.FileSystem ?? "?"}, {w.Location.Source ?? "?"}) | {w.Location.Device ?? "?"} | `{w.Pinned}` | {w.Disk} |\n");
        }

        foreach (var u in f.Upstreams)
        {
            md.Append($"| {u.Brain} | upstream | {u.Url} (model {u.Model}) | – | – | – | not local |\n");
        }

        md.Append("\n## Keys\n\n| what | protection | path | mount | device |\n|---|---|---|---|---|\n");
        foreach (var k in f.Keys)
        {
            md.Append($"| {k.What} | {k.Protection} | `{k.Location.Path}`{(k.Location.Exists ? "" : " (absent)")} | {k.Location.MountPoint ?? "?"} | {k.Location.Device ?? "?"} |\n");
        }

        md.Append("\n## Record\n\n").Append($"`{f.Record.Path}` on {f.Record.MountPoint ?? "?"} ({f.Record.FileSystem ?? "?"}, {f.Record.Source ?? "?"}, device {f.Record.Device ?? "?"}).\n\n");
        md.Append("## Verified\n\nNo earlier verification is recorded, so these checks ran at ").Append(AttestationStatement.FormatTime(f.Generated)).Append(":\n\n");
        md.Append(f.Audit.Intact
            ? $"- log audit: intact ({f.Audit.Entries} entries, {f.Audit.Tiles} tiles, {f.Audit.Checkpoints} checkpoints, size {f.Audit.Size})\n"
            : $"- log audit: NOT INTACT: {f.Audit.Problem}\n");
        md.Append($"- weights re-hashed: {f.Weights.Count(w => w.Disk == "ok")} of {f.Weights.Count} files match their pins\n");
        md.Append(f.Attestation switch
        {
            null => "- attestation: none kept in the data folder\n",
            { Valid: true, Statement: { } s } => $"- latest attestation `{f.Attestation.File}` (made {AttestationStatement.FormatTime(s.Time)} at log size {s.LogSize}): signature valid\n",
            _ => $"- latest attestation `{f.Attestation.File}`: INVALID: {f.Attestation.Problem}\n",
        });
        return md.ToString().TrimEnd('\n');
    }

    private static void Witnessing(Utf8JsonWriter json, Node.Sovereignty.WitnessFacts w)
    {
        json.WriteStartObject("witnessing");
        if (w.WitnessedSize is { } size)
        {
            json.WriteNumber("witnessed_size", size);
        }
        else
        {
            json.WriteNull("witnessed_size");
        }

        json.WriteStartArray("cosigners");
        w.Cosigners.ToList().ForEach(json.WriteStringValue);
        json.WriteEndArray();
        json.WriteStartArray("refusals");
        foreach (var r in w.Refusals)
        {
            json.WriteStartObject();
            json.WriteNumber("index", r.Index);
            json.WriteString("witness", r.Entry.Witness);
            json.WriteNumber("status", r.Entry.Status);
            if (r.Entry.Size is { } held)
            {
                json.WriteNumber("size", held);
            }

            if (r.Entry.Checkpoint is { } offered)
            {
                json.WriteNumber("checkpoint", offered);
            }

            if (r.Entry.Reason is { } reason)
            {
                json.WriteString("reason", reason);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Json(SovereigntyFacts f)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("generated", AttestationStatement.FormatTime(f.Generated));
            json.WriteString("data", f.DataFolder);
            json.WriteString("origin", f.Origin);
            json.WriteString("vkey", f.Vkey);
            json.WriteStartArray("weights");
            foreach (var w in f.Weights)
            {
                json.WriteStartObject();
                json.WriteString("brain", w.Brain);
                json.WriteString("file", w.Role);
                json.WriteString("pinned", w.Pinned);
                json.WriteString("disk", w.Disk);
                Location(json, w.Location);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("upstreams");
            foreach (var u in f.Upstreams)
            {
                json.WriteStartObject();
                json.WriteString("brain", u.Brain);
                json.WriteString("url", u.Url);
                json.WriteString("model", u.Model);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("keys");
            foreach (var k in f.Keys)
            {
                json.WriteStartObject();
                json.WriteString("what", k.What);
                json.WriteString("protection", k.Protection);
                Location(json, k.Location);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("api_keys");
            json.WriteNumber("total", f.ApiKeys);
            json.WriteNumber("active", f.ApiKeysActive);
            json.WriteString("stored", "sha256 hashes only");
            json.WriteEndObject();
            json.WriteStartObject("record");
            Location(json, f.Record);
            json.WriteEndObject();
            Witnessing(json, f.Witnessing);
            json.WriteStartObject("verified");
            json.WriteString("at", AttestationStatement.FormatTime(f.Generated));
            json.WriteString("why_now", "no earlier verification is recorded, so the checks ran for this report");
            json.WritePropertyName("log");
            JsonSerializer.Serialize(json, f.Audit, AuditReportJson.Default.AuditReport);
            json.WriteNumber("weights_matching", f.Weights.Count(w => w.Disk == "ok"));
            json.WriteNumber("weights_total", f.Weights.Count);
            if (f.Attestation is { } a)
            {
                json.WriteStartObject("attestation");
                json.WriteString("file", a.File);
                json.WriteBoolean("valid", a.Valid);
                if (a.Statement is { } s)
                {
                    json.WriteString("time", AttestationStatement.FormatTime(s.Time));
                    json.WriteNumber("log_size", s.LogSize);
                }
                else
                {
                    json.WriteString("problem", a.Problem);
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("attestation");
            }

            json.WriteEndObject();
            json.WriteStartArray("questions");
            foreach (var answer in f.Answers)
            {
                json.WriteStartObject();
                json.WriteString("question", answer.Question);
                json.WriteString("answer", answer.Text);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Location(Utf8JsonWriter json, StorageLocation l)
    {
        json.WriteString("path", l.Path);
        json.WriteBoolean("exists", l.Exists);
        json.WriteString("device", l.Device);
        json.WriteString("mount_point", l.MountPoint);
        json.WriteString("filesystem", l.FileSystem);
        json.WriteString("source", l.Source);
    }
}
