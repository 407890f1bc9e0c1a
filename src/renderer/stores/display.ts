// The display window's one API question: where to point noVNC for a VM's screen (RFB over a
// WebSocket that main pipes to the core host's VNC socket). null: this shell has no display channel.
import { useApi } from '../api';

export function displayUrl(id: string): string | null {
  return useApi().displayUrl?.(id) ?? null;
}
