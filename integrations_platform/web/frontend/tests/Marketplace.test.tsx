// The marketplace's tier: a badge on each card, and a filter the API answers.

import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { Marketplace } from "@/components/Marketplace";
import type { ConnectorSummary } from "@/lib/types";

const VERIFIED: ConnectorSummary = {
  id: "salesforce", label: "Salesforce", category: "CRM", description: "CRM objects.",
  streams: [], logo_url: "/logo", tier: "verified",
};
const COMMUNITY: ConnectorSummary = {
  id: "hubspot", label: "HubSpot", category: "CRM", description: "Contacts and deals.",
  streams: [], logo_url: "/logo", tier: "community",
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("marketplace tiers", () => {
  it("shows each card's tier", () => {
    render(<Marketplace all={[VERIFIED, COMMUNITY]} onAdd={null} />);
    const cards = screen.getAllByRole("listitem");
    expect(cards.map((card) => within(card).getByTitle(/./).textContent)).toEqual(["Verified", "Community"]);
  });

  it("asks the API for one tier and shows what it answers", async () => {
    const asked: string[] = [];
    vi.stubGlobal("fetch", async (url: string) => {
      asked.push(url);
      return new Response(JSON.stringify([VERIFIED]), { status: 200, headers: { "content-type": "application/json" } });
    });
    render(<Marketplace all={[VERIFIED, COMMUNITY]} onAdd={null} />);
    await userEvent.selectOptions(screen.getByLabelText("Tier"), "verified");
    await waitFor(() => expect(screen.getAllByRole("listitem")).toHaveLength(1));
    expect(asked).toEqual(["/api/v1/connectors?tier=verified"]);
    expect(screen.getByRole("status").textContent).toBe("1 connector matches.");
  });
});
