// The fleet overview's counts.
import type { FleetSummary } from "@fleetwatch/contracts";
import type { FleetRepository } from "./fleet.repository.ts";

export class FleetService {
  constructor(private readonly repository: FleetRepository) {}

  summary(): Promise<FleetSummary> {
    return this.repository.summary();
  }
}
