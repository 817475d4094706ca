using System.Text.Json.Nodes;

namespace EntraSnow.Sandbox.Graph;

/// <summary>The tenant's subscribed SKUs: a fixed catalogue with Microsoft's published SKU ids and part numbers.</summary>
internal static class GraphLicences
{
    public static readonly (string SkuId, string PartNumber, int Units)[] Catalogue =
    [
        ("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3", 100000),
        ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5", 20000),
        ("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", 50000),
        ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM", 100000),
        ("f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER_BI_PRO", 20000),
        ("efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS", 50000),
    ];

    public static JsonObject Assigned(string skuId) => new() { ["disabledPlans"] = new JsonArray(), ["skuId"] = skuId };
}

/// <summary>
/// Licences and guests for seeded users, from their own random sequence so the rest of a seed (ids, names, sign-ins)
/// stays what it was. Members get one of the suites and sometimes an add-on; guests get none and an #EXT# name.
/// </summary>
internal sealed class LicenceSpread(GraphSeedSpec spec)
{
    private readonly Random _random = new(unchecked(spec.Seed * 31 + 7));

    public void Apply(JsonObject doc)
    {
        var licences = new JsonArray();
        if (_random.Next(100) < spec.GuestPercent)
        {
            doc["userType"] = "Guest";
            var upn = doc["userPrincipalName"]!.GetValue<string>();
            doc["userPrincipalName"] = $"{upn.Replace('@', '_')}#EXT#@{spec.Domain}";
        }
        else
        {
            licences.Add(GraphLicences.Assigned(GraphLicences.Catalogue[_random.Next(3)].SkuId));
            if (_random.Next(100) < 30)
            {
                licences.Add(GraphLicences.Assigned(GraphLicences.Catalogue[3 + _random.Next(3)].SkuId));
            }
        }

        doc["assignedLicenses"] = licences;
    }
}

internal sealed partial class GraphApi
{
    private GraphResponse SubscribedSkus(GraphRequest r)
    {
        var consumed = Store.Read(s => s.ScanUsers(null)
            .SelectMany(u => u.Doc["assignedLicenses"] as JsonArray ?? [])
            .Select(l => l?["skuId"]?.GetValue<string>())
            .OfType<string>()
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count()));
        var select = Select(Q(r, "$select"));
        var items = GraphLicences.Catalogue.Select(sku =>
        {
            var json = new JsonObject
            {
                ["accountName"] = "contoso",
                ["capabilityStatus"] = "Enabled",
                ["consumedUnits"] = consumed.GetValueOrDefault(sku.SkuId),
                ["id"] = $"{emulator.Options.TenantId}_{sku.SkuId}",
                ["prepaidUnits"] = new JsonObject { ["enabled"] = sku.Units, ["suspended"] = 0, ["warning"] = 0, ["lockedOut"] = 0 },
                ["skuId"] = sku.SkuId,
                ["skuPartNumber"] = sku.PartNumber,
                ["appliesTo"] = "User",
            };
            return (JsonNode)(select is null ? json : Project(json, select));
        });
        return GraphResponse.Json(Collection(r, "subscribedSkus", items, null));
    }
}
