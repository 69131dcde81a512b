// The fake endpoint's prices (a test double, part of server.js): the AWS Price List API's
// GetProducts (JSON 1.1 protocol, `AWSPriceListService.GetProducts`, service `pricing`) and
// EC2's DescribeSpotPriceHistory (Query API), in the API references' shapes, with pagination.
//
// State (POST /_fake/state):
//   products: [{productFamily?, attributes: {instanceType, regionCode, ...}, price: "1.006",
//               unit?: "Hrs"}]     each becomes a PriceList entry: a JSON document in a string,
//                                  with an OnDemand term of that price (and a Reserved term of
//                                  another price, which a reader must not take)
//   pricePageSize: n               GetProducts pages hold min(MaxResults, n) entries
//   throttlePricePage: k           page k (1-based, k >= 2) answers ThrottlingException once
//   spotPrices: {TYPE: [{zone, price, time?, product?}]}   newest first, as AWS lists them
//   spotPageSize: n                DescribeSpotPriceHistory pages hold min(MaxResults, n) items
'use strict';

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// The PriceList entry of one product, as GetProducts returns it (FormatVersion aws_v1).
function priceListEntry(p, i) {
  const sku = p.sku || 'FAKESKU' + String(i).padStart(8, '0');
  const onDemand = sku + '.JRTCKXETXF';
  const reserved = sku + '.4NA7Y494T4';
  const dim = (term, price, unit) => ({
    [term + '.6YS6EN2CT7']: { unit, endRange: 'Inf', description: '$' + price + ' per ' + unit, appliesTo: [],
                              rateCode: term + '.6YS6EN2CT7', beginRange: '0', pricePerUnit: { USD: String(price) } },
  });
  const unit = p.unit || 'Hrs';
  return JSON.stringify({
    product: { productFamily: p.productFamily || 'Compute Instance', attributes: p.attributes, sku },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: { [onDemand]: { priceDimensions: dim(onDemand, p.price, unit), sku, effectiveDate: '2026-11-01T00:00:00Z',
                                offerTermCode: 'JRTCKXETXF', termAttributes: {} } },
      Reserved: { [reserved]: { priceDimensions: dim(reserved, (Number(p.price) * 0.6).toFixed(4), unit), sku,
                                effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: '4NA7Y494T4',
                                termAttributes: { LeaseContractLength: '1yr', OfferingClass: 'standard', PurchaseOption: 'No Upfront' } } },
    },
    version: '20261101000000',
    publicationDate: '2026-11-01T00:00:00Z',
  });
}

function fieldOf(p, field) {
  if (field === 'productFamily') return p.productFamily || 'Compute Instance';
  return (p.attributes || {})[field];
}

// GetProducts. `fail(status, code, message)` answers an error in the JSON protocol.
function getProducts(state, b, ok, fail) {
  if (b.ServiceCode !== 'AmazonEC2') return fail(400, 'InvalidParameterException', 'ServiceCode ' + b.ServiceCode + ' is not known here');
  if (b.FormatVersion !== undefined && b.FormatVersion !== 'aws_v1')
    return fail(400, 'InvalidParameterException', 'FormatVersion must be aws_v1');
  const filters = b.Filters || [];
  for (const f of filters)
    if (f.Type !== 'TERM_MATCH' || typeof f.Field !== 'string' || typeof f.Value !== 'string')
      return fail(400, 'InvalidParameterException', 'Each filter needs Type TERM_MATCH, Field and Value');
  const max = b.MaxResults === undefined ? 100 : b.MaxResults;
  if (!Number.isInteger(max) || max < 1 || max > 100) return fail(400, 'InvalidParameterException', 'MaxResults must be 1 to 100');
  const all = (state.products || []).map((p, i) => [p, i]).filter(([p]) => filters.every((f) => fieldOf(p, f.Field) === f.Value));
  let start = 0;
  if (b.NextToken !== undefined) {
    const m = /^fake-page:(\d+)$/.exec(Buffer.from(String(b.NextToken), 'base64').toString());
    if (!m) return fail(400, 'InvalidNextTokenException', 'The next token is not valid');
    start = Number(m[1]);
  }
  const size = Math.min(max, state.pricePageSize || 100);
  const page = Math.floor(start / size) + 1;
  state.pricePagesServed = (state.pricePagesServed || 0) + 1;
  if (state.throttlePricePage && page === state.throttlePricePage && !state.priceThrottled) {
    state.priceThrottled = true;
    return fail(400, 'ThrottlingException', 'Rate exceeded');
  }
  const reply = { FormatVersion: 'aws_v1', PriceList: all.slice(start, start + size).map(([p, i]) => priceListEntry(p, i)) };
  if (start + size < all.length) reply.NextToken = Buffer.from('fake-page:' + (start + size)).toString('base64');
  ok(reply);
}

// DescribeSpotPriceHistory. `ok(tag, innerXml)` and `fail(status, code, message)` answer it.
function describeSpotPriceHistory(state, form, ok, fail) {
  state.lastSpotQuery = Object.fromEntries(form);
  const types = [];
  for (let n = 1; form.has('InstanceType.' + n); ++n) types.push(form.get('InstanceType.' + n));
  const products = [];
  for (let n = 1; form.has('ProductDescription.' + n); ++n) products.push(form.get('ProductDescription.' + n));
  const max = form.has('MaxResults') ? Number(form.get('MaxResults')) : 1000;
  if (!Number.isInteger(max) || max < 5 || max > 1000) return fail(400, 'InvalidParameterValue', 'MaxResults must be 5 to 1000');
  const now = Date.now();
  const items = [];
  for (const [t, list] of Object.entries(state.spotPrices || {})) {
    if (types.length && !types.includes(t)) continue;
    list.forEach((p, k) => {
      const product = p.product || 'Linux/UNIX';
      if (products.length && !products.includes(product)) return;
      // Newest first: an item without a time is one second older than the one before it.
      items.push({ t, product, price: p.price, zone: p.zone, time: p.time || new Date(now - k * 1000).toISOString() });
    });
  }
  const start = form.has('NextToken') ? Number(Buffer.from(form.get('NextToken'), 'base64').toString().replace('fake-spot:', '')) : 0;
  if (!Number.isInteger(start) || start < 0) return fail(400, 'InvalidNextToken', 'The token is not valid');
  const size = Math.min(max, state.spotPageSize || 1000);
  let x = '<spotPriceHistorySet>';
  for (const i of items.slice(start, start + size))
    x += '<item><instanceType>' + esc(i.t) + '</instanceType><productDescription>' + esc(i.product) +
         '</productDescription><spotPrice>' + esc(i.price) + '</spotPrice><timestamp>' + esc(i.time) +
         '</timestamp><availabilityZone>' + esc(i.zone) + '</availabilityZone></item>';
  x += '</spotPriceHistorySet>';
  x += start + size < items.length ? '<nextToken>' + Buffer.from('fake-spot:' + (start + size)).toString('base64') + '</nextToken>' : '<nextToken/>';
  ok('DescribeSpotPriceHistoryResponse', x);
}

module.exports = { getProducts, describeSpotPriceHistory };
