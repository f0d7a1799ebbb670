// Two changes to the theme's search, made from the outside (this script runs in <head>,
// before Material's bundle, and wraps what the bundle uses: XMLHttpRequest and Worker).
//
// 1. The search index and worker load when the reader first goes to the search box,
//    not on every page load. Material's bundle requests search/search_index.json
//    (135 KB in English, 211 KB in Chinese) and starts workers/search.*.js (plus lunr's
//    language scripts) as soon as any page loads; most visits never search. They are
//    held back until the reader focuses, hovers or opens the search, or presses one of
//    the theme's search keys (s, f, /). A page opened from a search result (?h=...)
//    highlights the query at once, which needs the index: there, nothing is held back.
//
// 2. A Chinese query matches the text as written. The worker cuts a run of Chinese
//    characters into every indexed word it contains and matches any of them, so 损失函数
//    also found sections with only 损失 or only 函数. Results are kept only where the
//    section's title or text contains each Chinese part of the query (the parts between
//    spaces); a query without Chinese is left to the theme.
;(() => {
  let wanted = new URLSearchParams(location.search).has("h")
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

  // Material's messages to and from its search worker.
  const QUERY = 2
  const RESULT = 3
  const CHINESE = /\p{sc=Han}/u
  const plain = (html) => (html || "").replace(/<[^>]*>/g, "").replace(/\u200b/g, "")
  const hasAll = (doc, parts) => parts.every((part) => plain(doc.title + doc.text).includes(part))
  // items: one list per page, its matching sections and the page itself (the heading).
  const filter = (result, query) => {
    const parts = query.split(/\s+/).filter((part) => CHINESE.test(part))
    if (!parts.length || !result || !Array.isArray(result.items)) return result
    const items = []
    for (const group of result.items) {
      const page = group.find((doc) => !doc.location.includes("#")) || group[group.length - 1]
      const found = group.filter((doc) => hasAll(doc, parts))
      if (found.length) items.push(found.includes(page) ? found : [...found, { ...page, score: 0, terms: {} }])
    }
    return { ...result, items }
  }

  // The worker: hand Material a stand-in that starts the real worker when wanted and
  // filters the results. Material listens for "message" events and calls postMessage()
  // (first when the index has arrived, so never before the worker has started).
  const RealWorker = window.Worker
  class SearchWorker extends EventTarget {
    constructor(url, options) {
      super()
      this.queries = [] // the worker answers queries in the order they were asked
      this.start = () => {
        this.worker = new RealWorker(url, options)
        this.worker.addEventListener("message", (event) => {
          let data = event.data
          if (data && data.type === RESULT) data = { ...data, data: filter(data.data, this.queries.shift() || "") }
          this.dispatchEvent(new MessageEvent("message", { data }))
        })
        this.worker.addEventListener("messageerror", (event) => {
          this.dispatchEvent(new MessageEvent("messageerror", { data: event.data }))
        })
        this.worker.addEventListener("error", () => this.dispatchEvent(new Event("error")))
      }
      if (wanted) this.start()
      else waiting.push(this.start)
    }
    postMessage(message, transfer) {
      if (!this.worker) this.start()
      if (message && message.type === QUERY) this.queries.push(String(message.data))
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
