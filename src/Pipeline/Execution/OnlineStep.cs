using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Pipeline.Compilation;

namespace Sluice.Pipeline.Execution;

/// <summary>Runs a resolver's C# online resolvers on a batch of feature rows and adds the columns they compute.</summary>
internal static class OnlineStep
{
    public static async Task<ResolvedBatch> ApplyAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken ct)
    {
        if (plan.Online is not { Count: > 0 } online || batch.Features.Length == 0) return batch;
        var features = batch.Features;
        var prefix = plan.Class.Namespace + ".";
        var fields = features.Schema.FieldsList.ToList();
        var columns = Enumerable.Range(0, fields.Count).Select(features.Column).ToList();
        foreach (var computation in online)
        {
            var rows = new List<IReadOnlyDictionary<string, object?>>(features.Length);
            for (int r = 0; r < features.Length; r++)
            {
                var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                for (int c = 0; c < fields.Count; c++)
                    if (fields[c].Name.StartsWith(prefix, StringComparison.Ordinal))
                        row[fields[c].Name[prefix.Length..]] = ArrowValues.GetRow(columns[c], r, ArrowValues.TypeOf(fields[c].DataType).WithNullable(true));
                rows.Add(row);
            }
            var outputs = computation.Outputs.Select(name => plan.Class.Features.First(f => f.Name == name)).ToList();
            object?[][] values;
            try { values = await computation.RunAsync(rows, outputs.Select(o => o.Type.WithNullable(true)).ToList(), ct).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"online resolver {computation.Name} failed on a batch of {rows.Count} rows of resolver {plan.Name}: {e.Message}", e);
            }
            for (int k = 0; k < outputs.Count; k++)
            {
                var type = outputs[k].Type.WithNullable(true);
                var b = ColumnBuilder.Create(type, values[k].Length);
                foreach (var v in values[k]) b.AppendRow(v);
                int at = fields.FindIndex(f => f.Name == outputs[k].Fqn);
                if (at >= 0)
                {
                    fields[at] = type.ToArrowField(outputs[k].Fqn);
                    columns[at] = b.Build();
                }
                else
                {
                    int ts = fields.FindIndex(f => f.Name == "__ts__");
                    fields.Insert(ts, type.ToArrowField(outputs[k].Fqn));
                    columns.Insert(ts, b.Build());
                }
            }
        }
        return batch.WithFeatures(new RecordBatch(new Schema(fields, null), columns, features.Length));
    }
}
