// The Twilio client of the seed's functions, created at module scope, or null in demo mode. Its
// request client is pointed at TWILIO_API_BASE_URL (the benchmark's local stub).
const twilio = require('twilio');

class LocalRequestClient extends twilio.RequestClient {
  request(options) {
    const base = process.env.TWILIO_API_BASE_URL;
    if (base) options.uri = options.uri.replace(/^https:\/\/api\.twilio\.com/, base);
    return super.request(options);
  }
}

const configured = Boolean(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN);
module.exports = configured
  ? twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN, {
      httpClient: new LocalRequestClient({ keepAlive: true }),
    })
  : null;
