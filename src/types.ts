/** App settings (plugin.meta.jsonData); the token lives in secureJsonData and never reaches the browser. */
export interface AppJsonData {
  backendUrl?: string;
}

export interface AppSecureJsonData {
  token?: string;
}
