// An operator's own dashboard preferences (the theme), kept with their account so they follow
// the operator to every browser.
import type { Preferences, PreferencesUpdate } from "@fleetwatch/contracts";
import { unauthorized } from "../../http/errors.ts";
import type { PreferencesRepository } from "./preferences.repository.ts";

export class PreferencesService {
  constructor(private readonly repository: PreferencesRepository) {}

  async get(userId: string): Promise<Preferences> {
    return existing(await this.repository.find(userId));
  }

  async update(userId: string, update: PreferencesUpdate): Promise<Preferences> {
    return existing(await this.repository.update(userId, update));
  }
}

/** The account was deleted while its request was on the way: it is signed out. */
function existing(found: Preferences | null): Preferences {
  if (!found) throw unauthorized();
  return found;
}
