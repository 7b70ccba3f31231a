// Shapes of the data the front-ends receive from the Tauri shell and the sync server.
// They mirror the Rust types (src-tauri and the protocol crate) by hand for now.

/** Answer of the Tauri command `status`. */
export interface DeviceStatus {
  registered: boolean;
  server_url: string | null;
  username: string | null;
  device_id: string | null;
  /** Sync operations stored on the phone and not yet accepted by the server. */
  pending_ops: number;
  /** Findings reported from this phone, sent or not. */
  findings: number;
}

export type Role = 'inspector' | 'chief' | 'dispatcher' | 'department' | 'admin';

/** The signed-in user as the server describes it. */
export interface UserInfo {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  team: string | null;
  department?: string;
}

/** `POST /api/v1/sessions` request body. */
export interface SessionRequest {
  username: string;
  password: string;
}

/** `POST /api/v1/sessions` answer (201). */
export interface SessionResponse {
  token: string;
  user: UserInfo;
  expires_at?: string;
}

/** The body of every non-2xx answer of the server. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    details?: unknown;
  };
}
