// Fetch the search index and start the search worker when the reader first goes to
// the search box, not on every page load.
//
// Material's bundle requests search/search_index.json (113 KB in English, 186 KB in
// Chinese) and starts workers/search.*.js (plus lunr's language scripts) as soon as
// any page loads. Most visits never search, so this script, loaded in <head> before
// the bundle, holds both back until the reader focuses or opens the search, or
// presses one of the theme's search keys (s, f, /). Search then works as before; the
// first query waits for the index like a first visit to a slow page would.
// A page opened from a search result (?h=...) highlights the query at once, which
// needs the index: there, nothing is held back.
;(() => {
  if (new URLSearchParams(location.search).has("h")) return

  let wanted = false
  const waiting = []
  const want = () => {
    if (wanted) return
    wanted = true
    for (const resume of waiting.splice(0)) resume()
  }

  // The index: Material asks for it with XMLHttpRequest; hold its send() back.
  const { open, send } = XMLHttpRequest.prototype
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.searchIndex = /\/search\/search_index\.json$/.test(new URL(url, location.href).pathname)
    return open.call(this, method, url, ...rest)
  }
  XMLHttpRequest.prototype.send = function (...args) {
    if (this.searchIndex && !wanted) waiting.push(() => send.apply(this, args))
    else send.apply(this, args)
  }

  // The worker: hand Material a stand-in that starts the real worker when wanted.
  // Material only listens for "message" events and calls postMessage() (first when
  // the index has arrived, so never before the worker has started).
  const RealWorker = window.Worker
  class SearchWorker extends EventTarget {
    constructor(url, options) {
      super()
      this.start = () => {
        this.worker = new RealWorker(url, options)
        for (const type of ["message", "messageerror", "error"]) {
          this.worker.addEventListener(type, (event) => {
            const copy =
              type === "error" ? new Event("error") : new MessageEvent(type, { data: event.data })
            this.dispatchEvent(copy)
          })
        }
      }
      if (wanted) this.start()
      else waiting.push(this.start)
    }
    postMessage(message, transfer) {
      if (!this.worker) this.start()
      this.worker.postMessage(message, transfer)
    }
    terminate() {
      if (this.worker) this.worker.terminate()
    }
  }
  window.Worker = function Worker(url, options) {
    const search = /\/workers\/search\.[^/]*\.js$/.test(new URL(url, location.href).pathname)
    return search ? new SearchWorker(url, options) : new RealWorker(url, options)
  }

  // What counts as going to the search.
  const inSearch = (target) => target instanceof Element && target.closest(".md-search, [for=__search]")
  document.addEventListener("focusin", (event) => inSearch(event.target) && want(), true)
  document.addEventListener("pointerdown", (event) => inSearch(event.target) && want(), true)
  document.addEventListener("pointerover", (event) => inSearch(event.target) && want(), true)
  document.addEventListener("change", (event) => event.target.id === "__search" && want(), true)
  document.addEventListener(
    "keydown",
    (event) => {
      const typing = event.target instanceof Element && event.target.closest("input, textarea, [contenteditable]")
      if (!typing && ["s", "S", "f", "F", "/"].includes(event.key)) want()
    },
    true,
  )
})()
