// The few Fleetwatch API calls the simulator and the benchmarks make, written against the
// documented shapes: operator login (session cookie + CSRF token) or an API token, and the
// device registry. Kept small on purpose: it is the one place to adjust if the API changes.

export interface MqttEndpoints {
  mqtt?: string;
  mqtts?: string;
  ws: string;
}

export interface DeviceCredentialsBody {
  clientId: string;
  username: string;
  password: string;
}

export interface RegistrationResponse {
  device: { id: string };
  credentials: DeviceCredentialsBody;
  endpoints?: MqttEndpoints;
}

export type ApiAuth = { token: string } | { email: string; password: string };

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FleetwatchApi {
  private headers: Record<string, string> = {};
  private loggedIn = false;

  constructor(
    readonly baseUrl: string,
    private readonly auth?: ApiAuth,
  ) {
    if (auth && "token" in auth) {
      this.headers.authorization = `Bearer ${auth.token}`;
      this.loggedIn = true;
    }
  }

  /** Whether the server has the device registry at all (servers before it answer 404). */
  async hasDeviceRegistry(): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/api/devices`, { headers: { accept: "application/json" } });
    await response.body?.cancel();
    return response.status !== 404;
  }

  /** The device, or null when it does not exist. */
  async getDevice(id: string): Promise<{ id: string } | null> {
    const response = await this.request("GET", `/api/devices/${encodeURIComponent(id)}`);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return (await this.expect(response, 200, `GET /api/devices/${id}`)) as { id: string };
  }

  /** Registers a device; null when the id is already taken (409). */
  async registerDevice(id: string, name = id): Promise<RegistrationResponse | null> {
    const response = await this.request("POST", "/api/devices", { id, name });
    if (response.status === 409) {
      await response.body?.cancel();
      return null;
    }
    return (await this.expect(response, 201, "POST /api/devices")) as RegistrationResponse;
  }

  /** Any authenticated request; the headers carry the session or the token. */
  async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Response> {
    await this.login();
    const headers: Record<string, string> = { accept: "application/json", ...this.headers, ...extraHeaders };
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  }

  /** Headers that authenticate a request (for callers using their own HTTP client). */
  async authHeaders(): Promise<Record<string, string>> {
    await this.login();
    return { ...this.headers };
  }

  private async login(): Promise<void> {
    if (this.loggedIn || !this.auth || "token" in this.auth) return;
    const response = await fetch(`${this.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email: this.auth.email, password: this.auth.password }),
    });
    const body = (await this.expect(response, 200, "POST /api/auth/login")) as { csrfToken?: string } | null;
    const cookies = response.headers
      .getSetCookie()
      .map((cookie) => cookie.split(";")[0])
      .filter(Boolean);
    if (cookies.length === 0) throw new ApiError(response.status, "POST /api/auth/login set no session cookie");
    this.headers.cookie = cookies.join("; ");
    // The CSRF token may come in the body or a header; mutating requests must echo it.
    const csrf = body?.csrfToken ?? response.headers.get("x-csrf-token");
    if (csrf) this.headers["x-csrf-token"] = csrf;
    this.loggedIn = true;
  }

  private async expect(response: Response, status: number, what: string): Promise<unknown> {
    const text = await response.text();
    if (response.status !== status) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not our JSON error body: the raw text above is the message.
      }
      throw new ApiError(response.status, `${what} answered ${response.status}: ${message}`);
    }
    return text ? JSON.parse(text) : null;
  }
}
