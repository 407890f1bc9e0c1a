// The display window's one API question: a channel to a VM's screen for noVNC, straight to its
// core host (never through main): the core host's WebSocket URL and VNC password in web mode, a
// MessagePort in Electron. null: this shell has no display channel.
import type { DisplayChannel } from '../../shared/api';
import { useApi } from '../api';

export function openDisplay(id: string): Promise<DisplayChannel> | null {
  return useApi().openDisplay?.(id) ?? null;
}
