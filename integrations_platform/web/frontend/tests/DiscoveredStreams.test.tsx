// The discovered-streams list: filter, select all / none of what is shown, sync mode,
// and columns left out (never a key).

import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";

import { DiscoveredStreams } from "@/components/DiscoveredStreams";
import type { DiscoveredStream, StreamSelection } from "@/lib/types";

import { DISCOVERED } from "./fixtures";

const MANY: DiscoveredStream[] = Array.from({ length: 300 }, (_, i) => ({
  ...DISCOVERED[1] as DiscoveredStream,
  name: `Object_${String(i).padStart(3, "0")}__c`,
}));

function Harness({ streams, initial, seen }: { streams: DiscoveredStream[]; initial: StreamSelection[]; seen: StreamSelection[][] }) {
  const [value, setValue] = useState(initial);
  return (
    <DiscoveredStreams streams={streams} value={value} invalid={false} onBlur={() => undefined}
      onChange={(next) => { seen.push(next); setValue(next); }} />
  );
}

describe("the discovered streams", () => {
  it("selects by filter, all or none of those shown", async () => {
    const user = userEvent.setup();
    const seen: StreamSelection[][] = [];
    render(<Harness streams={[...DISCOVERED, ...MANY]} initial={[]} seen={seen} />);
    expect(screen.getByRole("status").textContent).toBe("0 of 302 selected; 302 shown.");
    await user.type(screen.getByLabelText("Filter streams"), "Object_01");
    expect(screen.getByRole("status").textContent).toBe("0 of 302 selected; 10 shown.");
    await user.click(screen.getByRole("button", { name: "Select all shown" }));
    expect(seen.at(-1)?.map((s) => s.name)).toEqual(Array.from({ length: 10 }, (_, i) => `Object_01${i}__c`));
    await user.click(screen.getByRole("button", { name: "Select none of those shown" }));
    expect(seen.at(-1)).toEqual([]);
  });

  it("syncs incrementally on the default key, and leaves out columns but never a key", async () => {
    const user = userEvent.setup();
    const seen: StreamSelection[][] = [];
    render(<Harness streams={DISCOVERED} initial={[]} seen={seen} />);
    await user.click(screen.getByRole("checkbox", { name: "Account" }));
    expect(seen.at(-1)).toEqual([{ name: "Account", replication_key: "SystemModstamp" }]);
    await user.selectOptions(screen.getByLabelText("Sync mode of Account"), "LastModifiedDate");
    await user.click(screen.getByRole("button", { name: /Columns of Account/ }));
    const columns = screen.getByRole("group", { name: "Columns of Account" });
    expect((within(columns).getByRole("checkbox", { name: /^Id/ }) as HTMLInputElement).disabled).toBe(true);
    expect((within(columns).getByRole("checkbox", { name: /^LastModifiedDate/ }) as HTMLInputElement).disabled).toBe(true);
    await user.click(within(columns).getByRole("checkbox", { name: /^Phone/ }));
    expect(seen.at(-1)).toEqual([{ name: "Account", replication_key: "LastModifiedDate", excluded_columns: ["Phone"] }]);
    await user.click(screen.getByRole("checkbox", { name: "Lead" }));
    expect(seen.at(-1)?.[1]).toEqual({ name: "Lead" });
    expect((screen.getByLabelText("Sync mode of Lead") as HTMLSelectElement).disabled).toBe(true);
  });
});
