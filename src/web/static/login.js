// Login with a NIP-07 extension (window.nostr): signs a NIP-98 event (kind 27235) for the login
// URL the server named in data-url, puts it in the form and posts the form. Without JavaScript or an
// extension the form stays hidden and the one-time link from the log is the way in.
const form = document.getElementById('nip98')
const status = document.getElementById('nip98-status')

function base64(text) {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

async function login(event) {
  event.preventDefault()
  status.textContent = 'Asking your extension to sign…'
  try {
    const signed = await window.nostr.signEvent({
      kind: 27235,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['u', form.dataset.url],
        ['method', 'POST'],
      ],
      content: '',
    })
    form.elements.auth.value = base64(JSON.stringify(signed))
    form.submit()
  } catch (err) {
    status.textContent = `The extension did not sign: ${err instanceof Error ? err.message : String(err)}`
  }
}

function offer() {
  if (!form || !window.nostr || !form.hidden) return
  form.hidden = false
  form.addEventListener('submit', login)
}

offer()
// some extensions inject window.nostr a moment after the page loads
setTimeout(offer, 1000)
