// Duplicates, before any byte is sent: each chosen file's SHA-256 (hash-wasm's streaming hasher, a
// few MiB at a time: never the whole file in memory) and the server's answer to "does the library
// hold this content already?" (<body data-copy-check-url>). No markup: uploads.js shows the answer.
// Without WebAssembly nothing is asked; the server recognises duplicates after the upload too.
import { csrfToken, pageSetting } from "./page.js";

const HASH_CHUNK = 8 * 1024 * 1024;

export function canHash() { return !!(window.hashwasm && window.WebAssembly); }

// null when `cancelled()` became true on the way.
export async function sha256Of(file, cancelled, onProgress) {
  const hasher = await hashwasm.createSHA256();
  hasher.init();
  for (let offset = 0; offset < file.size; offset += HASH_CHUNK) {
    if (cancelled()) return null;
    hasher.update(new Uint8Array(await file.slice(offset, offset + HASH_CHUNK).arrayBuffer()));
    onProgress(Math.min(file.size, offset + HASH_CHUNK));
  }
  return hasher.digest("hex");
}

// The library's file with this content ({id, name, url}), or null (none, or no answer).
export async function existingCopy(file, sha256) {
  try {
    const answer = await fetch(pageSetting("copyCheckUrl"), {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ files: [{ sha256, size: file.size, name: file.name }] }),
    });
    return answer.ok ? (await answer.json()).files[0].existing : null;
  } catch (error) {
    return null;  // the server will tell after the upload
  }
}
